//! Declaring the new module: `pub mod receipt;` in the listeners module, and
//! `mod listeners;` in the crate root when it is missing.
//!
//! These are text edits, not a Rust parse: a declaration is a line of its own
//! (`pub mod receipt;`), which is how rustfmt writes it. A declaration the scan misses
//! makes the compiler report a duplicate module, never a silent change.

use thiserror::Error;

/// How a source file declares a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// Not at all.
    No,
    /// `mod name;`: its body is in a file.
    File,
    /// `mod name { … }`: its body is in this file.
    Inline,
}

/// A module tree the generator cannot extend by adding a file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TreeError {
    /// `mod listeners { … }` in the crate root.
    #[error(
        "{file} declares `mod listeners` inline (with a body), so a file cannot be added \
         to it; move it to src/listeners/mod.rs, or add the module yourself"
    )]
    InlineListeners {
        /// The crate root, relative to the app.
        file: String,
    },
    /// The listeners module already declares the new module.
    #[error(
        "{file} already declares `mod {module}`; choose another name, or remove the \
         declaration"
    )]
    AlreadyDeclared {
        /// The listeners module's file, relative to the app.
        file: String,
        /// The module name.
        module: String,
    },
}

/// Whether `source` declares module `name` (with any visibility, `r#` or not).
pub fn declares(source: &str, name: &str) -> Declared {
    for line in source.lines() {
        let Some(rest) = strip_mod_keyword(line.trim()) else {
            continue;
        };
        let rest = rest.strip_prefix("r#").unwrap_or(rest);
        let Some(after) = rest.strip_prefix(name) else {
            continue;
        };
        match after.trim_start().chars().next() {
            Some(';') => return Declared::File,
            Some('{') => return Declared::Inline,
            // `mod receipts;` is not `mod receipt;`.
            _ => {}
        }
    }
    Declared::No
}

/// `pub(crate) mod x;` -> `x;`: what follows `mod ` after an optional visibility.
fn strip_mod_keyword(line: &str) -> Option<&str> {
    let line = match line.strip_prefix("pub") {
        Some(rest) if rest.starts_with('(') => {
            // `pub(crate)`, `pub(super)`, `pub(in path)`.
            let close = rest.find(')')?;
            rest[close + 1..].trim_start()
        }
        Some(rest) if rest.starts_with(char::is_whitespace) => rest.trim_start(),
        Some(_) => return None,
        None => line,
    };
    line.strip_prefix("mod")
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .map(str::trim_start)
}

/// `source` with `declaration` (a whole line, such as `pub mod receipt;`) added: after
/// the last top-level module declaration when there is one, so it joins its siblings;
/// else after the file's leading `//!` docs and `#![…]` attributes.
pub fn add_declaration(source: &str, declaration: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let last_mod = lines.iter().rposition(|line| {
        // Top level only: an indented `mod` is inside another module or a function.
        !line.starts_with(char::is_whitespace)
            && strip_mod_keyword(line).is_some_and(|rest| rest.trim_end().ends_with(';'))
    });
    let mut out: Vec<&str> = Vec::with_capacity(lines.len() + 3);
    match last_mod {
        Some(at) => {
            out.extend(&lines[..=at]);
            out.push(declaration);
            out.extend(&lines[at + 1..]);
        }
        None => {
            let header = lines
                .iter()
                .take_while(|l| {
                    let l = l.trim();
                    l.is_empty() || l.starts_with("//!") || l.starts_with("#![")
                })
                .count();
            // Blank lines belong to what follows the header, not to it.
            let header = lines[..header]
                .iter()
                .rposition(|l| !l.trim().is_empty())
                .map_or(0, |last| last + 1);
            out.extend(&lines[..header]);
            if header > 0 {
                out.push("");
            }
            out.push(declaration);
            if lines[header..].iter().any(|l| !l.trim().is_empty()) {
                if lines.get(header).is_some_and(|l| !l.trim().is_empty()) {
                    out.push("");
                }
                out.extend(&lines[header..]);
            }
        }
    }
    // Keep the file's line endings (`lines()` dropped them).
    let newline = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut text = out.join(newline);
    text.push_str(newline);
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn finds_declarations() {
        let source = "\
//! The app.
pub mod listeners;
mod receipts;
pub(crate) mod a;
pub(in crate::x) mod b ;
mod r#type;
mod inline {
    mod nested;
}
// mod commented;
";
        assert_eq!(declares(source, "listeners"), Declared::File);
        assert_eq!(declares(source, "receipt"), Declared::No);
        assert_eq!(declares(source, "receipts"), Declared::File);
        assert_eq!(declares(source, "a"), Declared::File);
        assert_eq!(declares(source, "b"), Declared::File);
        assert_eq!(declares(source, "type"), Declared::File);
        assert_eq!(declares(source, "inline"), Declared::Inline);
        // A nested declaration counts too: a false alarm is a refusal, never damage.
        assert_eq!(declares(source, "nested"), Declared::File);
        assert_eq!(declares(source, "commented"), Declared::No);
        assert_eq!(declares("pub fn module() {}", "module"), Declared::No);
        assert_eq!(declares("public mod x;", "x"), Declared::No);
    }

    #[test]
    fn joins_the_last_sibling() {
        let source = "\
//! Listeners.

mod echo;
pub mod global_chat;

pub use echo::Echo;
";
        assert_eq!(
            add_declaration(source, "pub mod receipt;"),
            "\
//! Listeners.

mod echo;
pub mod global_chat;
pub mod receipt;

pub use echo::Echo;
"
        );
    }

    #[test]
    fn skips_indented_and_inline_modules() {
        let source = "mod a;\n\nmod tests {\n    mod b;\n}\n";
        assert_eq!(
            add_declaration(source, "pub mod listeners;"),
            "mod a;\npub mod listeners;\n\nmod tests {\n    mod b;\n}\n"
        );
    }

    #[test]
    fn after_the_header_when_no_sibling() {
        assert_eq!(
            add_declaration(
                "//! The app.\n#![forbid(unsafe_code)]\n\nuse std::fmt;\n",
                "pub mod listeners;"
            ),
            "//! The app.\n#![forbid(unsafe_code)]\n\npub mod listeners;\n\nuse std::fmt;\n"
        );
        assert_eq!(
            add_declaration("//! Docs only.\n", "pub mod listeners;"),
            "//! Docs only.\n\npub mod listeners;\n"
        );
        assert_eq!(
            add_declaration("fn main() {}", "mod listeners;"),
            "mod listeners;\n\nfn main() {}\n"
        );
        assert_eq!(
            add_declaration("\n\nfn main() {}\n", "mod listeners;"),
            "mod listeners;\n\n\nfn main() {}\n"
        );
        assert_eq!(add_declaration("", "pub mod x;"), "pub mod x;\n");
    }

    #[test]
    fn keeps_crlf() {
        assert_eq!(
            add_declaration("mod a;\r\nfn f() {}\r\n", "mod b;"),
            "mod a;\r\nmod b;\r\nfn f() {}\r\n"
        );
    }

    #[test]
    fn the_result_declares_it() {
        for source in [
            "",
            "//! a\n",
            "mod a;\n",
            "fn main() {}\n",
            "use x;\nmod y;\n",
        ] {
            let out = add_declaration(source, "pub mod receipt;");
            assert_eq!(declares(&out, "receipt"), Declared::File, "{out}");
        }
    }
}
