//! The generated files: templates in `cli/templates/`, filled in by name.
//!
//! The templates are real Rust and JavaScript with `{{key}}` holes, so they read as
//! the code they produce. Filling is one pass over the template: a value is never
//! scanned for holes itself, so a pattern's `{id}` or a JSDoc `{{id: string}}` in a
//! value stays as it is.

use crate::channel::ChannelShape;
use crate::names::ListenerName;

/// A template and its name (for messages).
#[derive(Debug, Clone, Copy)]
pub struct Template {
    name: &'static str,
    text: &'static str,
}

macro_rules! template {
    ($file:literal) => {
        Template {
            name: $file,
            text: include_str!(concat!("../templates/", $file)),
        }
    };
}

/// `src/listeners/<module>.rs` of a channel listener.
pub const CHANNEL_LISTENER: Template = template!("channel_listener.rs");
/// `tests/<module>.rs` of a channel listener.
pub const CHANNEL_TEST: Template = template!("channel_test.rs");
/// `client/<module>.js` of a channel listener.
pub const CHANNEL_CLIENT: Template = template!("channel_client.js");
/// `src/listeners/<module>.rs` of a socket listener.
pub const SOCKET_LISTENER: Template = template!("socket_listener.rs");
/// `tests/<module>.rs` of a socket listener.
pub const SOCKET_TEST: Template = template!("socket_test.rs");
/// `client/<module>.js` of a socket listener.
pub const SOCKET_CLIENT: Template = template!("socket_client.js");

/// How the generated test reaches the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The app has a library: link it, and every listener in it registers.
    Library {
        /// The library's crate name (`my_app`).
        crate_name: String,
    },
    /// A binary-only app: an integration test cannot link `src/main.rs`, so the test
    /// compiles the listener's module itself.
    Module {
        /// The crate name a library would have (for the comment).
        crate_name: String,
    },
}

/// The values the templates' holes are filled with.
#[derive(Debug, Clone)]
pub struct Values {
    pairs: Vec<(&'static str, String)>,
}

impl Values {
    /// The values every template has: the names, and how the test links the listener.
    pub fn new(name: &ListenerName, link: &Link) -> Values {
        let link = match link {
            Link::Library { crate_name } => format!(
                "\n// Links the app's library, so its listeners (this one among them) register.\n\
                 use {crate_name} as _;"
            ),
            Link::Module { crate_name } => format!(
                "\n// The app has no library, and a test cannot link `src/main.rs`: this test\n\
                 // compiles the listener's module itself. To test it with the rest of the\n\
                 // app, move the listeners into `src/lib.rs` and write `use {crate_name} as _;`.\n\
                 #[path = \"../src/listeners/{module}.rs\"]\n\
                 mod {module};",
                module = name.module
            ),
        };
        Values {
            pairs: vec![
                ("Name", name.type_name.clone()),
                ("module", name.module.clone()),
                ("link", link),
            ],
        }
    }

    /// Adds the values of a channel listener's templates.
    pub fn channel(mut self, shape: &ChannelShape) -> Values {
        // Whole comment lines, so a long parameter name does not make a long line.
        let authorise_hint = match (shape.first_named(), shape.params.is_empty()) {
            (Some(param), _) => {
                format!("\n        // The channel's `{{{param}}}` is `conn.param(\"{param}\")`.")
            }
            (None, false) => {
                "\n        // The values of its wildcards are in `conn.params()`.".to_owned()
            }
            (None, true) => String::new(),
        };
        let (js_channel_doc, js_params_doc, js_params_arg, js_sample_arg) =
            if shape.params.is_empty() {
                (
                    format!("`{}`", shape.pattern.source()),
                    String::new(),
                    String::new(),
                    String::new(),
                )
            } else {
                (
                    format!("the `{}` channel named by `params`", shape.pattern.source()),
                    format!(
                        " * @param {{{}}} params The values of the pattern's wildcards.\n",
                        shape.js_params_type()
                    ),
                    "params, ".to_owned(),
                    format!("{}, ", shape.js_sample_params()),
                )
            };
        self.pairs.extend([
            ("pattern", shape.pattern.source().to_owned()),
            ("sample", shape.sample.clone()),
            ("authorise_hint", authorise_hint),
            ("js_channel", shape.js_channel()),
            ("js_channel_doc", js_channel_doc),
            ("js_params_doc", js_params_doc),
            ("js_params_arg", js_params_arg),
            ("js_sample_arg", js_sample_arg),
        ]);
        self
    }

    /// Adds the values of a socket listener's templates.
    pub fn socket(mut self, event: &str) -> Values {
        self.pairs.push(("event", event.to_owned()));
        self
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A hole no value fills: a mistake in this crate, caught by its tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {template} has a hole `{{{{{key}}}}}` with no value (a bug in switchboard-cli)")]
pub struct UnfilledHole {
    template: &'static str,
    key: String,
}

/// Fills `template`'s `{{key}}` holes with `values`.
pub fn render(template: Template, values: &Values) -> Result<String, UnfilledHole> {
    let mut out = String::with_capacity(template.text.len() + 512);
    let mut rest = template.text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        // A hole is `{{` + a key of letters and `_` + `}}`; anything else is text.
        let key_len = after
            .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
            .unwrap_or(after.len());
        if key_len == 0 || !after[key_len..].starts_with("}}") {
            out.push_str(&rest[..start + 2]);
            rest = after;
            continue;
        }
        let key = &after[..key_len];
        let value = values.get(key).ok_or_else(|| UnfilledHole {
            template: template.name,
            key: key.to_owned(),
        })?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &after[key_len + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::channel::shape;
    use crate::names::listener_name;

    fn receipt_values(link: &Link) -> Values {
        let name = listener_name("Receipt").unwrap();
        Values::new(&name, link).channel(&shape("receipt.{id}").unwrap())
    }

    fn library() -> Link {
        Link::Library {
            crate_name: "my_app".into(),
        }
    }

    #[test]
    fn holes_are_filled_once() {
        let template = Template {
            name: "t",
            text: "a {{Name}} {{ not a hole }} {{x {{module}}}} {{pattern}}",
        };
        assert_eq!(
            render(template, &receipt_values(&library())).unwrap(),
            "a Receipt {{ not a hole }} {{x receipt}} receipt.{id}"
        );
        let unknown = Template {
            name: "t",
            text: "{{nope}}",
        };
        assert_eq!(
            render(unknown, &receipt_values(&library())),
            Err(UnfilledHole {
                template: "t",
                key: "nope".into()
            })
        );
    }

    #[test]
    fn every_template_renders_fully() {
        let channel = receipt_values(&library());
        let module = Link::Module {
            crate_name: "my_app".into(),
        };
        let socket = Values::new(&listener_name("Nudge").unwrap(), &module).socket("nudge");
        for (template, values) in [
            (CHANNEL_LISTENER, &channel),
            (CHANNEL_TEST, &channel),
            (CHANNEL_CLIENT, &channel),
            (SOCKET_LISTENER, &socket),
            (SOCKET_TEST, &socket),
            (SOCKET_CLIENT, &socket),
        ] {
            let text = render(template, values).unwrap();
            assert!(!text.contains("{{Name}}"), "{}", template.name);
            assert!(
                text.ends_with('\n') && !text.ends_with("\n\n"),
                "{}",
                template.name
            );
        }
    }

    #[test]
    fn channel_listener() {
        let text = render(CHANNEL_LISTENER, &receipt_values(&library())).unwrap();
        assert!(text.contains("#[channel(\"receipt.{id}\")]\npub struct Receipt;"));
        assert!(text.contains("async fn is_authorised(&self, conn: &Connection)"));
        assert!(text.contains("// The channel's `{id}` is `conn.param(\"id\")`."));
        assert!(text.contains("packet: Packet<ReceiptMessage>"));
        assert!(text.contains("ctx.broadcast(\"message\", &packet.data)?;"));
    }

    #[test]
    fn channel_test_uses_the_sample_and_links_the_app() {
        let text = render(CHANNEL_TEST, &receipt_values(&library())).unwrap();
        assert!(text.contains("use my_app as _;"));
        assert!(text.contains("async fn receipt_message_reaches_every_subscriber()"));
        assert!(text.contains("alice.subscribe(\"receipt.42\")"));
        assert!(text.contains("expect_channel_event(\"receipt.42\", \"message\")"));

        let module = Link::Module {
            crate_name: "my_app".into(),
        };
        let text = render(CHANNEL_TEST, &receipt_values(&module)).unwrap();
        assert!(text.contains("#[path = \"../src/listeners/receipt.rs\"]\nmod receipt;"));
    }

    #[test]
    fn channel_client() {
        let text = render(CHANNEL_CLIENT, &receipt_values(&library())).unwrap();
        assert!(text.contains("import { SocketClient } from '/switchboard/switchboard.js';"));
        assert!(text.contains("export async function joinReceipt(client, params, onMessage) {"));
        assert!(text.contains("client.subscribe(`receipt.${params.id}`)"));
        assert!(text.contains(" * @param {{id: string}} params"));
        assert!(text.contains("joinReceipt(client, { id: '42' }, data =>"));

        let name = listener_name("Lobby").unwrap();
        let values = Values::new(&name, &library()).channel(&shape("lobby").unwrap());
        let text = render(CHANNEL_CLIENT, &values).unwrap();
        assert!(text.contains("export async function joinLobby(client, onMessage) {"));
        assert!(text.contains("client.subscribe('lobby')"));
        assert!(!text.contains("params"));
    }

    #[test]
    fn socket_templates() {
        let values = Values::new(&listener_name("Nudge").unwrap(), &library()).socket("nudge");
        let text = render(SOCKET_LISTENER, &values).unwrap();
        assert!(text.contains("#[event(\"nudge\")]\npub struct Nudge;"));
        assert!(text.contains("ctx.reply(\"nudge\", &packet.data)?;"));
        let text = render(SOCKET_TEST, &values).unwrap();
        assert!(text.contains(".emit_direct_with_ack(\"nudge\", json!({\"text\": \"hi\"}))"));
        let text = render(SOCKET_CLIENT, &values).unwrap();
        assert!(text.contains("client.emit('nudge', { text }, { ack: true })"));
    }
}
