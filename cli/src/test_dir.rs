//! Scratch directories for unit tests, removed when dropped (no `tempfile` in the
//! workspace's lockfile, and a unit test needs only this).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory under the system's temporary directory.
#[derive(Debug)]
pub struct TestDir(PathBuf);

impl TestDir {
    /// `<tmp>/switchboard-cli-<label>-<pid>-<n>`, empty.
    pub fn new(label: &str) -> TestDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "switchboard-cli-{label}-{}-{n}",
            std::process::id()
        ));
        // A leftover of a killed run with the same pid.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        TestDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
