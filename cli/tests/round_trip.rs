//! The generator's round trip: `switchboard new channel Receipt "receipt.{id}"` into a
//! scratch app that depends on this workspace's framework, then that app's
//! `cargo test`, which must build and pass the generated test. A second run must
//! refuse and leave every file as it was.
//!
//! The scratch app builds in `<target>/generator-scratch` (its own target dir: the
//! outer `cargo test` holds this workspace's locked), with the workspace's Cargo.lock
//! so the versions are those already built and downloaded, and with the framework's
//! optional parts off, so the extra compile stays short.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The generated test's name, as libtest prints it.
const GENERATED_TEST: &str = "receipt_message_reaches_every_subscriber";

#[test]
fn generate_into_a_scratch_app_then_build_and_test_it() {
    let workspace = workspace();
    let app = ScratchApp::new(&workspace);

    // The generator, as a user runs it.
    let out = generator(&app.dir);
    assert!(
        out.status.success(),
        "the generator failed:\n{}",
        text(&out)
    );
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    for wrote in [
        "created src/listeners/receipt.rs",
        "created src/listeners/mod.rs",
        "created tests/receipt.rs",
        "created client/receipt.js",
        "updated src/lib.rs",
    ] {
        assert!(report.contains(wrote), "{wrote:?} missing from:\n{report}");
    }
    // The app has only `switchboard` (macros): the report asks for the rest, and the
    // test adds exactly what it asks for, so the advice is checked by the build.
    assert!(!report.contains("in place of"), "{report}");
    let (deps, dev_deps) = advised_lines(&report);
    assert_eq!(
        deps,
        ["serde = { version = \"1\", features = [\"derive\"] }"],
        "{report}"
    );
    assert!(
        dev_deps
            .iter()
            .any(|l| l.starts_with("switchboard = { path = ")
                && l.contains("default-features = false")
                && l.contains("features = [\"testing\"]")),
        "{report}"
    );
    assert!(
        dev_deps.iter().any(|l| l.starts_with("actix-web = ")),
        "{report}"
    );
    assert!(
        dev_deps.iter().any(|l| l.starts_with("serde_json = ")),
        "{report}"
    );
    app.add_dependencies(&deps, &dev_deps);

    // A second run refuses, names the files, and changes nothing.
    let before = app.snapshot();
    let again = generator(&app.dir);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let refusal = String::from_utf8_lossy(&again.stderr);
    assert!(
        refusal.contains(
            "src/listeners/receipt.rs, tests/receipt.rs, client/receipt.js already exist; \
             nothing was written"
        ),
        "{refusal}"
    );
    assert_eq!(app.snapshot(), before, "the refused run changed files");

    // The app builds and its generated test passes.
    let started = Instant::now();
    let test = app.cargo_test(&scratch_target(&workspace));
    let took = started.elapsed();
    let output = text(&test);
    assert!(
        test.status.success(),
        "the scratch app's cargo test failed:\n{output}"
    );
    assert!(
        output.contains(&format!("test {GENERATED_TEST} ... ok")),
        "the generated test did not run:\n{output}"
    );
    assert!(
        output.contains("test result: ok. 1 passed"),
        "the generated test did not run:\n{output}"
    );
    eprintln!("scratch app: cargo test took {took:.1?}");
    app.remove();
}

/// The workspace root (this crate is `cli/` in it).
fn workspace() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// `<target>/generator-scratch`, where `<target>` is `CARGO_TARGET_DIR` or the
/// workspace's `target/`: beside the outer build's output, not in it, so the two
/// cargo processes never wait for each other's lock.
fn scratch_target(workspace: &Path) -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        // Relative: to where cargo was run, taken to be the workspace root.
        Some(dir) if !dir.is_empty() => workspace.join(dir),
        _ => workspace.join("target"),
    };
    target.join("generator-scratch")
}

/// `switchboard new channel Receipt "receipt.{id}" --app DIR`.
fn generator(app: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["new", "channel", "Receipt", "receipt.{id}", "--app"])
        .arg(app)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the generator: {e}"))
}

/// The `[dependencies]` and `[dev-dependencies]` lines of the generator's report.
fn advised_lines(report: &str) -> (Vec<String>, Vec<String>) {
    let (mut deps, mut dev_deps) = (Vec::new(), Vec::new());
    let mut section = None;
    for line in report.lines() {
        match line {
            "[dependencies]" => section = Some(&mut deps),
            "[dev-dependencies]" => section = Some(&mut dev_deps),
            "" => section = None,
            line => {
                if let Some(lines) = section.as_mut() {
                    lines.push(line.to_owned());
                }
            }
        }
    }
    (deps, dev_deps)
}

fn text(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An app as a user starts one: a library depending on the framework, nothing else.
/// Removed when the test passes; kept (its path printed) when it fails.
struct ScratchApp {
    dir: PathBuf,
}

impl ScratchApp {
    fn new(workspace: &Path) -> ScratchApp {
        let dir =
            std::env::temp_dir().join(format!("switchboard-round-trip-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        eprintln!("scratch app: {}", dir.display());
        let framework = workspace.join("framework");
        write(
            &dir.join("Cargo.toml"),
            &format!(
                r#"[package]
name = "scratch-shop"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
switchboard = {{ path = {framework:?}, default-features = false, features = ["macros"] }}

[dev-dependencies]

# As the workspace builds, so the extra compile is as small as the workspace's.
[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
debug = false

# Not a member of any workspace above the temporary directory.
[workspace]
"#
            ),
        );
        write(&dir.join("src/lib.rs"), "//! A shop, in a hurry.\n");
        // The workspace's versions (already downloaded, already built once), and its
        // toolchain when rustup picks one by directory.
        for file in ["Cargo.lock", "rust-toolchain.toml"] {
            if workspace.join(file).is_file() {
                fs::copy(workspace.join(file), dir.join(file))
                    .unwrap_or_else(|e| panic!("copying {file}: {e}"));
            }
        }
        ScratchApp { dir }
    }

    /// Puts the report's lines under their section headers.
    fn add_dependencies(&self, deps: &[String], dev_deps: &[String]) {
        let path = self.dir.join("Cargo.toml");
        let manifest = read(&path);
        let manifest = manifest.replacen(
            "\n[dev-dependencies]\n",
            &format!("\n[dev-dependencies]\n{}\n", dev_deps.join("\n")),
            1,
        );
        let manifest = manifest.replacen(
            "\n[dependencies]\n",
            &format!("\n[dependencies]\n{}\n", deps.join("\n")),
            1,
        );
        write(&path, &manifest);
    }

    /// Every file under the app and its contents.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
            let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, into);
                } else {
                    let bytes =
                        fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    into.insert(path, bytes);
                }
            }
        }
        let mut files = BTreeMap::new();
        walk(&self.dir, &mut files);
        files
    }

    fn cargo_test(&self, target: &Path) -> Output {
        // The cargo running this test (so the same toolchain), else the one that
        // built it.
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from(env!("CARGO")));
        Command::new(cargo)
            .arg("test")
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", target)
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo: {e}"))
    }

    fn remove(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}
