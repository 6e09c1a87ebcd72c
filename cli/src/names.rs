//! Listener names and event names: which are accepted, and the file and module names
//! derived from a listener name.

use switchboard_pattern::is_channel_char;
use thiserror::Error;

/// A checked listener name: `ReceiptLine`, with its module name `receipt_line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerName {
    /// The type name, UpperCamelCase.
    pub type_name: String,
    /// The module (and file) name, snake_case.
    pub module: String,
}

/// Why a listener name or an event name is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// An empty NAME.
    #[error("the listener name is empty; give a type name such as `Receipt`")]
    Empty,
    /// A NAME that does not start with an ASCII capital letter.
    #[error(
        "`{name}` is not a type name in UpperCamelCase: it must start with a capital \
         letter A-Z (as in `Receipt`)"
    )]
    NotUpperCamelCase {
        /// The name as given.
        name: String,
    },
    /// A NAME with a character other than an ASCII letter or digit.
    #[error(
        "`{name}` has {ch:?} at byte {at}; a type name in UpperCamelCase has only ASCII \
         letters and digits (as in `ReceiptLine`)"
    )]
    BadChar {
        /// The name as given.
        name: String,
        /// The offending character.
        ch: char,
        /// Its byte offset.
        at: usize,
    },
    /// A NAME that the generated module's `use switchboard::prelude::*;` already brings
    /// in: the struct would shadow it and the generated code would not compile.
    #[error(
        "`{name}` is a name the listener module imports from `switchboard::prelude`; \
         choose another name (such as `{name}Channel`)"
    )]
    PreludeName {
        /// The name as given.
        name: String,
    },
    /// A NAME whose module name is a Rust keyword (`Type` would be `mod type;`).
    #[error(
        "`{name}` would be the module `{module}`, which is a Rust keyword; choose another \
         name (such as `{name}Channel`)"
    )]
    KeywordModule {
        /// The name as given.
        name: String,
        /// The keyword.
        module: String,
    },
    /// An empty EVENT.
    #[error("the event name is empty")]
    EmptyEvent,
    /// An EVENT the protocol keeps for itself.
    #[error("event name `{event}` is reserved by the Switchboard protocol (reserved: {list})", list = RESERVED_EVENTS.join(", "))]
    ReservedEvent {
        /// The event as given.
        event: String,
    },
    /// An EVENT with a character the generator does not put into source files.
    #[error(
        "event name {event:?} has {ch:?} at byte {at}; the generator takes event names of \
         letters, digits and _ . : @ = , - (as in `private-message`)"
    )]
    BadEventChar {
        /// The event as given.
        event: String,
        /// The offending character.
        ch: char,
        /// Its byte offset.
        at: usize,
    },
}

/// The events the protocol uses itself (`switchboard::protocol::events::RESERVED`): no
/// listener may handle one. Kept in step with that list by hand, since depending on the
/// framework for twenty strings would compile all of actix.
pub const RESERVED_EVENTS: [&str; 20] = [
    "ready",
    "ping",
    "pong",
    "subscribe-channel-request",
    "subscribe-channel-response",
    "unsubscribe-channel-request",
    "unsubscribe-channel-response",
    "ack",
    "error",
    "token-expiring",
    "refresh-token-request",
    "refresh-token-response",
    "unsubscribed",
    "resync",
    "subscribed",
    "disconnect",
    "presence-request",
    "presence-response",
    "presence-join",
    "presence-leave",
];

/// What `use switchboard::prelude::*;` brings into the generated module, plus the
/// derives it names. A struct of one of these names would shadow the import.
const PRELUDE: &[&str] = &[
    "Connection",
    "EventContext",
    "Packet",
    "Params",
    "SocketError",
    "State",
    "ChannelListener",
    "SocketListener",
    "channel_events",
    "socket_handler",
];

/// Strict and reserved keywords of Rust 2024; none can be a module name.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// Checks a listener NAME and derives its module name.
///
/// Accepted: an ASCII capital letter, then ASCII letters and digits (no `_`: rustc
/// would warn about a non-camel-case type, and the module name would be ambiguous).
pub fn listener_name(name: &str) -> Result<ListenerName, NameError> {
    let Some(first) = name.chars().next() else {
        return Err(NameError::Empty);
    };
    if !first.is_ascii_uppercase() {
        return Err(NameError::NotUpperCamelCase {
            name: name.to_owned(),
        });
    }
    if let Some((at, ch)) = name
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        return Err(NameError::BadChar {
            name: name.to_owned(),
            ch,
            at,
        });
    }
    if PRELUDE.contains(&name) {
        return Err(NameError::PreludeName {
            name: name.to_owned(),
        });
    }
    let module = snake_case(name);
    if KEYWORDS.contains(&module.as_str()) {
        return Err(NameError::KeywordModule {
            name: name.to_owned(),
            module,
        });
    }
    Ok(ListenerName {
        type_name: name.to_owned(),
        module,
    })
}

/// Checks an EVENT name for a socket listener.
///
/// The framework accepts any name the protocol does not reserve; the generator also
/// keeps to channel-name characters, which need no escaping in Rust or JavaScript
/// string literals.
pub fn event_name(event: &str) -> Result<(), NameError> {
    if event.is_empty() {
        return Err(NameError::EmptyEvent);
    }
    if RESERVED_EVENTS.contains(&event) {
        return Err(NameError::ReservedEvent {
            event: event.to_owned(),
        });
    }
    match event.char_indices().find(|&(_, c)| !is_channel_char(c)) {
        Some((at, ch)) => Err(NameError::BadEventChar {
            event: event.to_owned(),
            ch,
            at,
        }),
        None => Ok(()),
    }
}

/// `ReceiptLine` -> `receipt_line`, `HTTPServer` -> `http_server`, `V2Api` -> `v2_api`.
///
/// A word starts at a capital that follows a lower-case letter or a digit, or at the
/// last capital of a run followed by a lower-case letter (the end of an acronym).
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let before = chars[i - 1];
            let after_is_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if before.is_ascii_lowercase()
                || before.is_ascii_digit()
                || (before.is_ascii_uppercase() && after_is_lower)
            {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn module_names() {
        for (name, module) in [
            ("Receipt", "receipt"),
            ("ReceiptLine", "receipt_line"),
            ("HTTPServer", "http_server"),
            ("V2Api", "v2_api"),
            ("Receipt2", "receipt2"),
            ("ABC", "abc"),
            ("X", "x"),
        ] {
            assert_eq!(
                listener_name(name),
                Ok(ListenerName {
                    type_name: name.into(),
                    module: module.into()
                }),
                "{name}"
            );
        }
    }

    #[test]
    fn refused_names() {
        assert_eq!(listener_name(""), Err(NameError::Empty));
        for name in ["receipt", "receiptLine", "2Receipt", "_Receipt", "Ärger"] {
            assert!(
                matches!(
                    listener_name(name),
                    Err(NameError::NotUpperCamelCase { .. })
                ),
                "{name}"
            );
        }
        assert_eq!(
            listener_name("Receipt_Line"),
            Err(NameError::BadChar {
                name: "Receipt_Line".into(),
                ch: '_',
                at: 7
            })
        );
        assert!(matches!(
            listener_name("Receipt-Line"),
            Err(NameError::BadChar { ch: '-', .. })
        ));
        assert!(matches!(
            listener_name("Receipt Line"),
            Err(NameError::BadChar { ch: ' ', .. })
        ));
        assert!(matches!(
            listener_name("Rëceipt"),
            Err(NameError::BadChar {
                ch: 'ë', at: 1, ..
            })
        ));
        assert!(matches!(
            listener_name("Packet"),
            Err(NameError::PreludeName { .. })
        ));
        assert_eq!(
            listener_name("Type"),
            Err(NameError::KeywordModule {
                name: "Type".into(),
                module: "type".into()
            })
        );
        assert!(matches!(
            listener_name("Self"),
            Err(NameError::KeywordModule { .. })
        ));
    }

    #[test]
    fn messages_name_the_problem() {
        let message = listener_name("receipt").unwrap_err().to_string();
        assert!(message.contains("UpperCamelCase"), "{message}");
        let message = listener_name("Match").unwrap_err().to_string();
        assert!(
            message.contains("`match`") && message.contains("keyword"),
            "{message}"
        );
        let message = event_name("ack").unwrap_err().to_string();
        assert!(
            message.contains("reserved") && message.contains("resync"),
            "{message}"
        );
    }

    #[test]
    fn event_names() {
        for ok in ["nudge", "private-message", "user:note", "a.b_c@d=e,f"] {
            assert_eq!(event_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(event_name(""), Err(NameError::EmptyEvent));
        for reserved in RESERVED_EVENTS {
            assert!(
                matches!(event_name(reserved), Err(NameError::ReservedEvent { .. })),
                "{reserved}"
            );
        }
        assert_eq!(
            event_name("say \"hi\""),
            Err(NameError::BadEventChar {
                event: "say \"hi\"".into(),
                ch: ' ',
                at: 3
            })
        );
        assert!(matches!(
            event_name("it's"),
            Err(NameError::BadEventChar { ch: '\'', .. })
        ));
    }
}
