//! `switchboard`: generates Switchboard listeners into an app.
//!
//! ```text
//! switchboard new channel Receipt "receipt.{id}"    # in the app's package directory
//! switchboard new socket Nudge nudge --app path/to/app
//! ```
//!
//! Layout: `args` (the command line), `names` and `channel` (checking the name, the
//! event and the pattern), `manifest` (reading the app's Cargo.toml), `needs` (the
//! dependency lines it lacks), `module_tree` (declaring
//! the module), `templates` (the files' text), `generate` (one generation's plan and
//! report), `plan` (writing it, all or nothing), `error` (how it fails).

mod args;
mod channel;
mod error;
mod generate;
mod manifest;
mod module_tree;
mod names;
mod needs;
mod plan;
mod templates;
#[cfg(test)]
mod test_dir;

use std::ffi::OsString;
use std::process::ExitCode;

use args::Command;
use error::Error;
use generate::Kind;

fn main() -> ExitCode {
    match run(std::env::args_os().skip(1)) {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            if error.is_usage() {
                eprintln!("\n{}", args::USAGE);
                // 2, as for other tools' usage errors: the command line was wrong.
                return ExitCode::from(2);
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs the command; returns what to print.
fn run(args: impl IntoIterator<Item = OsString>) -> Result<String, Error> {
    // Everything the user typed is checked before the app directory is looked at, so
    // a typo is reported as such even when run from the wrong directory.
    let (name, kind, app) = match args::parse(args)? {
        Command::Help => return Ok(format!("{}\n", args::USAGE)),
        Command::Version => return Ok(format!("switchboard {}\n", env!("CARGO_PKG_VERSION"))),
        Command::NewChannel { name, pattern, app } => {
            let name = names::listener_name(&name)?;
            (name, Kind::Channel(channel::shape(&pattern)?), app)
        }
        Command::NewSocket { name, event, app } => {
            let name = names::listener_name(&name)?;
            names::event_name(&event)?;
            (name, Kind::Socket { event }, app)
        }
    };
    let generation = generate::plan(&app, &name, &kind)?;
    generation.plan.apply(&app)?;
    Ok(generation.report())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::test_dir::TestDir;

    fn run_str(args: &[&str]) -> Result<String, Error> {
        run(args.iter().map(OsString::from))
    }

    #[test]
    fn help_and_version() {
        assert!(run_str(&["--help"]).unwrap().starts_with("usage:"));
        assert_eq!(
            run_str(&["--version"]).unwrap(),
            format!("switchboard {}\n", env!("CARGO_PKG_VERSION"))
        );
    }

    #[test]
    fn input_is_checked_before_the_app() {
        // No app at `nowhere`, but the bad name and pattern are what is reported.
        let name = run_str(&["new", "channel", "receipt", "r", "--app", "nowhere"]).unwrap_err();
        assert!(matches!(name, Error::Name(_)), "{name}");
        let pattern =
            run_str(&["new", "channel", "Receipt", "r.{", "--app", "nowhere"]).unwrap_err();
        assert!(matches!(pattern, Error::Pattern(_)), "{pattern}");
        assert!(pattern.to_string().contains("never closed"), "{pattern}");
        let event = run_str(&["new", "socket", "Nudge", "ack", "--app", "nowhere"]).unwrap_err();
        assert!(matches!(event, Error::Name(_)), "{event}");
        let usage = run_str(&["new", "channel", "Receipt"]).unwrap_err();
        assert!(usage.is_usage());
        let app =
            run_str(&["new", "channel", "Receipt", "r.{id}", "--app", "nowhere"]).unwrap_err();
        assert!(app.to_string().contains("has no Cargo.toml"), "{app}");
    }

    #[test]
    fn generates_then_refuses_the_second_time() {
        let dir = TestDir::new("main-twice");
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        let app = dir.path().to_str().unwrap();
        let report = run_str(&["new", "channel", "Receipt", "receipt.{id}", "--app", app]).unwrap();
        assert!(report.contains("created tests/receipt.rs"), "{report}");
        let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();

        let again =
            run_str(&["new", "channel", "Receipt", "receipt.{id}", "--app", app]).unwrap_err();
        assert!(
            again.to_string().starts_with(
                "src/listeners/receipt.rs, tests/receipt.rs, client/receipt.js already exist"
            ),
            "{again}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(),
            lib
        );

        // The files gone but the declaration left: the module tree says so.
        for file in [
            "src/listeners/receipt.rs",
            "tests/receipt.rs",
            "client/receipt.js",
        ] {
            std::fs::remove_file(dir.path().join(file)).unwrap();
        }
        let again =
            run_str(&["new", "channel", "Receipt", "receipt.{id}", "--app", app]).unwrap_err();
        assert!(matches!(again, Error::Tree(_)), "{again}");
    }
}
