//! One generation: from a checked name and pattern (or event) to a [`Plan`] for the
//! app, and the report of what it wrote and what `Cargo.toml` still needs.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::channel::ChannelShape;
use crate::error::Error;
use crate::manifest::{Manifest, Section};
use crate::module_tree::{self, Declared, TreeError};
use crate::names::ListenerName;
use crate::needs::{self, Line};
use crate::plan::{Edit, NewFile, Plan, WriteError};
use crate::templates::{self, Link, Template, Values, render};

/// What kind of listener to generate.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A channel listener on a pattern.
    Channel(ChannelShape),
    /// A socket listener for one event.
    Socket {
        /// The event, checked.
        event: String,
    },
}

/// A generation ready to be written.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The files.
    pub plan: Plan,
    /// Dependency lines the app's `Cargo.toml` lacks.
    pub lines: Vec<Line>,
    /// What else the user should know.
    pub notes: Vec<String>,
}

/// Plans the listener `name` of `kind` for the app in `app`. Reads, never writes.
pub fn plan(app: &Path, name: &ListenerName, kind: &Kind) -> Result<Generation, Error> {
    let manifest = Manifest::read(app)?;
    let m = &name.module;
    let [listener_path, test_path, client_path] = [
        format!("src/listeners/{m}.rs"),
        format!("tests/{m}.rs"),
        format!("client/{m}.js"),
    ]
    .map(PathBuf::from);
    // Files in the way are the first thing to say: a second run with the same name
    // stops here, before the module tree says the module is declared already.
    let in_the_way: Vec<PathBuf> = [&listener_path, &test_path, &client_path]
        .into_iter()
        .filter(|p| fs::symlink_metadata(app.join(p)).is_ok())
        .cloned()
        .collect();
    if !in_the_way.is_empty() {
        return Err(WriteError::Exists { paths: in_the_way }.into());
    }
    let mut plan = Plan::default();
    let mut notes = Vec::new();

    // The crate root: the library when there is one, so the app's own tests (and
    // the generated one) can link the listeners.
    let (root, is_library) = if app.join("src/lib.rs").is_file() {
        (PathBuf::from("src/lib.rs"), true)
    } else if app.join("src/main.rs").is_file() {
        (PathBuf::from("src/main.rs"), false)
    } else {
        return Err(Error::NoCrateRoot {
            dir: app.to_path_buf(),
        });
    };
    let root_text = read(app, &root)?;
    match module_tree::declares(&root_text, "listeners") {
        Declared::File => {}
        Declared::Inline => {
            return Err(TreeError::InlineListeners {
                file: root.display().to_string(),
            }
            .into());
        }
        Declared::No => {
            // A library exports its listeners' types; a binary has no one to export to.
            let declaration = if is_library {
                "pub mod listeners;"
            } else {
                "mod listeners;"
            };
            plan.edit.push(Edit {
                after: module_tree::add_declaration(&root_text, declaration),
                before: root_text,
                about: declaration.to_owned(),
                path: root,
            });
        }
    }

    // The listeners module: `src/listeners/mod.rs` or `src/listeners.rs`, else a new
    // `mod.rs` (the layout of the demo app).
    let declaration = format!("pub mod {};", name.module);
    let existing = [
        PathBuf::from("src/listeners/mod.rs"),
        PathBuf::from("src/listeners.rs"),
    ]
    .into_iter()
    .find(|p| app.join(p).is_file());
    match existing {
        Some(path) => {
            let text = read(app, &path)?;
            if module_tree::declares(&text, &name.module) != Declared::No {
                return Err(TreeError::AlreadyDeclared {
                    file: path.display().to_string(),
                    module: name.module.clone(),
                }
                .into());
            }
            plan.edit.push(Edit {
                after: module_tree::add_declaration(&text, &declaration),
                before: text,
                about: declaration,
                path,
            });
        }
        None => plan.create.push(NewFile {
            path: PathBuf::from("src/listeners/mod.rs"),
            contents: format!("//! The app's listeners, one module each.\n\n{declaration}\n"),
            about: format!("the listeners module: {declaration}"),
        }),
    }

    let link = if is_library {
        Link::Library {
            crate_name: manifest.lib_name.clone(),
        }
    } else {
        notes.push(format!(
            "the app has no src/lib.rs, so tests/{m}.rs compiles src/listeners/{m}.rs by \
             itself (an integration test cannot link src/main.rs)",
            m = name.module
        ));
        Link::Module {
            crate_name: manifest.lib_name.clone(),
        }
    };
    let values = Values::new(name, &link);
    let (values, [listener, test, client], listener_about, client_about) = match kind {
        Kind::Channel(shape) => (
            values.channel(shape),
            [
                templates::CHANNEL_LISTENER,
                templates::CHANNEL_TEST,
                templates::CHANNEL_CLIENT,
            ],
            format!(
                "the channel listener {} on \"{}\": is_authorised, event `message`",
                name.type_name,
                shape.pattern.source()
            ),
            format!("join{}(…) for the browser client", name.type_name),
        ),
        Kind::Socket { event } => (
            values.socket(event),
            [
                templates::SOCKET_LISTENER,
                templates::SOCKET_TEST,
                templates::SOCKET_CLIENT,
            ],
            format!("the socket listener {} for event `{event}`", name.type_name),
            format!("use{}(…) for the browser client", name.type_name),
        ),
    };
    let file = |path: PathBuf, template: Template, about: String| -> Result<NewFile, Error> {
        Ok(NewFile {
            path,
            contents: render(template, &values)?,
            about,
        })
    };
    // The listener first: the report reads in the order a user would open them.
    plan.create
        .insert(0, file(listener_path, listener, listener_about)?);
    plan.create.push(file(
        test_path,
        test,
        format!("its test: cargo test --test {m}"),
    )?);
    plan.create.push(file(client_path, client, client_about)?);

    Ok(Generation {
        plan,
        lines: needs::missing_lines(&manifest),
        notes,
    })
}

fn read(app: &Path, path: &Path) -> Result<String, Error> {
    fs::read_to_string(app.join(path)).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl Generation {
    /// What was written, then the `Cargo.toml` lines to add and the notes: what the
    /// command prints on success.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let width = self
            .plan
            .create
            .iter()
            .map(|f| &f.path)
            .chain(self.plan.edit.iter().map(|e| &e.path))
            .map(|p| p.display().to_string().len())
            .max()
            .unwrap_or(0);
        for file in &self.plan.create {
            let path = file.path.display().to_string();
            let _ = writeln!(out, "created {path:width$}  {}", file.about);
        }
        for edit in &self.plan.edit {
            let path = edit.path.display().to_string();
            let _ = writeln!(out, "updated {path:width$}  {}", edit.about);
        }
        if !self.lines.is_empty() {
            let _ = writeln!(
                out,
                "\nCargo.toml needs these lines for the generated code and its test:"
            );
            for section in [Section::Dependencies, Section::DevDependencies] {
                let lines: Vec<&Line> =
                    self.lines.iter().filter(|l| l.section == section).collect();
                if lines.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "\n{section}");
                for line in lines {
                    // A TOML comment, so the block can be pasted as it is.
                    let replaces = if line.replaces {
                        "  # in place of your line: a feature more"
                    } else {
                        ""
                    };
                    let _ = writeln!(out, "{}{replaces}", line.text);
                }
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nnote: {note}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::channel::shape;
    use crate::names::listener_name;
    use crate::test_dir::TestDir;

    const COMPLETE: &str = r#"[package]
name = "shop-app"
[dependencies]
switchboard = "0.1"
serde = { version = "1", features = ["derive"] }
actix-web = "4"
serde_json = "1"
[dev-dependencies]
switchboard = { version = "0.1", features = ["testing"] }
"#;

    fn app(label: &str, manifest: &str, files: &[(&str, &str)]) -> TestDir {
        let dir = TestDir::new(label);
        fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        dir
    }

    fn receipt() -> (ListenerName, Kind) {
        (
            listener_name("Receipt").unwrap(),
            Kind::Channel(shape("receipt.{id}").unwrap()),
        )
    }

    fn read(dir: &TestDir, path: &str) -> String {
        fs::read_to_string(dir.path().join(path)).unwrap()
    }

    #[test]
    fn a_library_app_without_listeners() {
        let dir = app("gen-lib", COMPLETE, &[("src/lib.rs", "//! Shop.\n")]);
        let (name, kind) = receipt();
        let generation = plan(dir.path(), &name, &kind).unwrap();
        generation.plan.apply(dir.path()).unwrap();

        assert_eq!(
            read(&dir, "src/lib.rs"),
            "//! Shop.\n\npub mod listeners;\n"
        );
        assert_eq!(
            read(&dir, "src/listeners/mod.rs"),
            "//! The app's listeners, one module each.\n\npub mod receipt;\n"
        );
        assert!(read(&dir, "src/listeners/receipt.rs").contains("pub struct Receipt;"));
        assert!(read(&dir, "tests/receipt.rs").contains("use shop_app as _;"));
        assert!(read(&dir, "client/receipt.js").contains("joinReceipt"));

        let report = generation.report();
        assert!(
            report.starts_with("created src/listeners/receipt.rs  the channel listener Receipt"),
            "{report}"
        );
        assert!(
            report.contains("\nupdated src/lib.rs                pub mod listeners;\n"),
            "{report}"
        );
        assert!(!report.contains("Cargo.toml needs"), "{report}");
    }

    #[test]
    fn an_existing_listeners_module_gets_a_sibling() {
        let dir = app(
            "gen-sibling",
            COMPLETE,
            &[
                ("src/lib.rs", "pub mod listeners;\n"),
                ("src/listeners/mod.rs", "mod echo;\n\npub use echo::Echo;\n"),
            ],
        );
        let (name, kind) = receipt();
        let generation = plan(dir.path(), &name, &kind).unwrap();
        assert_eq!(
            generation.plan.edit.len(),
            1,
            "the crate root is left alone"
        );
        generation.plan.apply(dir.path()).unwrap();
        assert_eq!(
            read(&dir, "src/listeners/mod.rs"),
            "mod echo;\npub mod receipt;\n\npub use echo::Echo;\n"
        );
    }

    #[test]
    fn a_binary_app_compiles_the_module_in_its_test() {
        let dir = app("gen-bin", COMPLETE, &[("src/main.rs", "fn main() {}\n")]);
        let (name, kind) = receipt();
        let generation = plan(dir.path(), &name, &kind).unwrap();
        generation.plan.apply(dir.path()).unwrap();
        assert_eq!(
            read(&dir, "src/main.rs"),
            "mod listeners;\n\nfn main() {}\n"
        );
        assert!(
            read(&dir, "tests/receipt.rs").contains("#[path = \"../src/listeners/receipt.rs\"]")
        );
        assert!(
            generation
                .report()
                .contains("note: the app has no src/lib.rs")
        );
    }

    #[test]
    fn listeners_rs_is_extended_too() {
        let dir = app(
            "gen-listeners-rs",
            COMPLETE,
            &[("src/lib.rs", "mod listeners;\n"), ("src/listeners.rs", "")],
        );
        let (name, kind) = receipt();
        plan(dir.path(), &name, &kind)
            .unwrap()
            .plan
            .apply(dir.path())
            .unwrap();
        assert_eq!(read(&dir, "src/listeners.rs"), "pub mod receipt;\n");
        assert!(!dir.path().join("src/listeners/mod.rs").exists());
    }

    #[test]
    fn refuses_to_overwrite_and_leaves_everything_as_it_was() {
        let dir = app(
            "gen-refuses",
            COMPLETE,
            &[
                ("src/lib.rs", "//! Shop.\n"),
                ("client/receipt.js", "mine\n"),
            ],
        );
        let (name, kind) = receipt();
        match plan(dir.path(), &name, &kind) {
            Err(Error::Write(WriteError::Exists { paths })) => {
                assert_eq!(paths, [PathBuf::from("client/receipt.js")]);
            }
            other => panic!("must refuse: {other:?}"),
        }
        assert_eq!(read(&dir, "src/lib.rs"), "//! Shop.\n");
        assert_eq!(read(&dir, "client/receipt.js"), "mine\n");
        assert!(!dir.path().join("src/listeners").exists());
        assert!(!dir.path().join("tests").exists());
    }

    #[test]
    fn refuses_a_module_declared_already() {
        let dir = app(
            "gen-declared",
            COMPLETE,
            &[
                ("src/lib.rs", "pub mod listeners;\n"),
                ("src/listeners/mod.rs", "mod receipt;\n"),
            ],
        );
        let (name, kind) = receipt();
        assert!(matches!(
            plan(dir.path(), &name, &kind),
            Err(Error::Tree(TreeError::AlreadyDeclared { .. }))
        ));
    }

    #[test]
    fn refuses_an_inline_listeners_module() {
        let dir = app(
            "gen-inline",
            COMPLETE,
            &[("src/lib.rs", "mod listeners {}\n")],
        );
        let (name, kind) = receipt();
        assert!(matches!(
            plan(dir.path(), &name, &kind),
            Err(Error::Tree(TreeError::InlineListeners { .. }))
        ));
    }

    #[test]
    fn needs_a_crate_root() {
        let dir = app("gen-no-root", COMPLETE, &[]);
        let (name, kind) = receipt();
        assert!(matches!(
            plan(dir.path(), &name, &kind),
            Err(Error::NoCrateRoot { .. })
        ));
    }

    #[test]
    fn reports_the_missing_cargo_lines() {
        let dir = app(
            "gen-lines",
            "[package]\nname = \"a\"\n[dependencies]\nswitchboard = \"0.1\"\nserde = \"1\"\n",
            &[("src/lib.rs", "")],
        );
        let name = listener_name("Nudge").unwrap();
        let kind = Kind::Socket {
            event: "nudge".into(),
        };
        let report = plan(dir.path(), &name, &kind).unwrap().report();
        assert!(
            report.contains(
                "created src/listeners/nudge.rs  the socket listener Nudge for event `nudge`"
            ),
            "{report}"
        );
        assert!(
            report.contains(
                "\n[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }  # in place of your line: a feature more\n"
            ),
            "{report}"
        );
        assert!(
            report.contains(
                "\n[dev-dependencies]\nswitchboard = { version = \"0.1\", features = [\"testing\"] }\n"
            ),
            "{report}"
        );
    }
}
