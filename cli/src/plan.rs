//! Writing: every file of one generation, all or nothing.
//!
//! A [`Plan`] holds the whole outcome in memory before anything touches the disk, so
//! the checks (no file to create exists, no file to edit changed) cover every target
//! at once, and a failure halfway (a full disk, a permission) is rolled back.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A file to create; it must not exist.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Relative to the app.
    pub path: PathBuf,
    /// Its contents.
    pub contents: String,
    /// What it is, for the report.
    pub about: String,
}

/// A file to change: its contents as read, and as they will be.
#[derive(Debug, Clone)]
pub struct Edit {
    /// Relative to the app.
    pub path: PathBuf,
    /// The contents the edit was computed from.
    pub before: String,
    /// The new contents.
    pub after: String,
    /// What changed, for the report.
    pub about: String,
}

/// Everything one generation writes, relative to the app directory.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Files to create.
    pub create: Vec<NewFile>,
    /// Files to change.
    pub edit: Vec<Edit>,
}

/// Why a plan was not carried out. Nothing was written in any case.
#[derive(Debug, Error)]
pub enum WriteError {
    /// Files to create exist already.
    #[error(
        "{} already exist{}; nothing was written (the generator never overwrites a file: \
         choose another name, or move the file away)",
        list(paths),
        if paths.len() == 1 { "s" } else { "" }
    )]
    Exists {
        /// Every one of them, relative to the app.
        paths: Vec<PathBuf>,
    },
    /// A file to edit changed since it was read.
    #[error("{} changed while the generator ran; nothing was written: run it again", path.display())]
    Changed {
        /// The file, relative to the app.
        path: PathBuf,
    },
    /// Reading or writing failed; what was written before it was removed or restored.
    #[error("cannot write {}: {source}; nothing was written", path.display())]
    Io {
        /// The file, relative to the app.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

fn list(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(", ")
}

impl Plan {
    /// The files to create that exist already (also as a dangling symlink, which a
    /// write would follow).
    pub fn existing(&self, app: &Path) -> Vec<PathBuf> {
        self.create
            .iter()
            .filter(|f| fs::symlink_metadata(app.join(&f.path)).is_ok())
            .map(|f| f.path.clone())
            .collect()
    }

    /// Writes the plan into `app`: all of it, or (on any error) none of it.
    pub fn apply(&self, app: &Path) -> Result<(), WriteError> {
        let existing = self.existing(app);
        if !existing.is_empty() {
            return Err(WriteError::Exists { paths: existing });
        }
        for edit in &self.edit {
            let now =
                fs::read_to_string(app.join(&edit.path)).map_err(|source| WriteError::Io {
                    path: edit.path.clone(),
                    source,
                })?;
            if now != edit.before {
                return Err(WriteError::Changed {
                    path: edit.path.clone(),
                });
            }
        }

        let mut done = Undo::default();
        match self.write(app, &mut done) {
            Ok(()) => Ok(()),
            Err(error) => {
                done.roll_back(app);
                Err(error)
            }
        }
    }

    fn write(&self, app: &Path, done: &mut Undo) -> Result<(), WriteError> {
        for file in &self.create {
            let io_error = |source| WriteError::Io {
                path: file.path.clone(),
                source,
            };
            if let Some(parent) = file.path.parent() {
                done.create_dirs(app, parent).map_err(io_error)?;
            }
            // `create_new`: a file that appeared since the check is not overwritten.
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(app.join(&file.path))
                .map_err(io_error)?;
            done.files.push(file.path.clone());
            out.write_all(file.contents.as_bytes()).map_err(io_error)?;
        }
        for edit in &self.edit {
            fs::write(app.join(&edit.path), &edit.after).map_err(|source| WriteError::Io {
                path: edit.path.clone(),
                source,
            })?;
            done.edits.push((edit.path.clone(), edit.before.clone()));
        }
        Ok(())
    }
}

/// What a plan wrote so far, to take back after a failure.
#[derive(Debug, Default)]
struct Undo {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    edits: Vec<(PathBuf, String)>,
}

impl Undo {
    /// Creates `dir` (relative) and its missing ancestors, remembering which.
    fn create_dirs(&mut self, app: &Path, dir: &Path) -> io::Result<()> {
        let mut missing = Vec::new();
        for ancestor in dir.ancestors() {
            if ancestor.as_os_str().is_empty() || app.join(ancestor).is_dir() {
                break;
            }
            missing.push(ancestor.to_path_buf());
        }
        for dir in missing.into_iter().rev() {
            fs::create_dir(app.join(&dir))?;
            self.dirs.push(dir);
        }
        Ok(())
    }

    /// Best effort: the error that led here is the one to report.
    fn roll_back(self, app: &Path) {
        for (path, before) in self.edits.iter().rev() {
            let _ = fs::write(app.join(path), before);
        }
        for path in self.files.iter().rev() {
            let _ = fs::remove_file(app.join(path));
        }
        for dir in self.dirs.iter().rev() {
            let _ = fs::remove_dir(app.join(dir));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::test_dir::TestDir;

    fn plan(dir: &TestDir) -> Plan {
        fs::write(dir.path().join("mod.rs"), "mod a;\n").unwrap();
        Plan {
            create: vec![
                NewFile {
                    path: "src/listeners/receipt.rs".into(),
                    contents: "listener".into(),
                    about: String::new(),
                },
                NewFile {
                    path: "tests/receipt.rs".into(),
                    contents: "test".into(),
                    about: String::new(),
                },
            ],
            edit: vec![Edit {
                path: "mod.rs".into(),
                before: "mod a;\n".into(),
                after: "mod a;\nmod b;\n".into(),
                about: String::new(),
            }],
        }
    }

    fn read(dir: &TestDir, path: &str) -> String {
        fs::read_to_string(dir.path().join(path)).unwrap()
    }

    #[test]
    fn writes_everything() {
        let dir = TestDir::new("plan-writes");
        plan(&dir).apply(dir.path()).unwrap();
        assert_eq!(read(&dir, "src/listeners/receipt.rs"), "listener");
        assert_eq!(read(&dir, "tests/receipt.rs"), "test");
        assert_eq!(read(&dir, "mod.rs"), "mod a;\nmod b;\n");
    }

    #[test]
    fn refuses_to_overwrite_and_writes_nothing() {
        let dir = TestDir::new("plan-refuses");
        fs::create_dir(dir.path().join("tests")).unwrap();
        fs::write(dir.path().join("tests/receipt.rs"), "mine").unwrap();
        match plan(&dir).apply(dir.path()) {
            Err(WriteError::Exists { paths }) => {
                assert_eq!(paths, [PathBuf::from("tests/receipt.rs")]);
            }
            other => panic!("must refuse: {other:?}"),
        }
        assert_eq!(read(&dir, "tests/receipt.rs"), "mine");
        assert!(!dir.path().join("src").exists(), "nothing else was created");
        assert_eq!(read(&dir, "mod.rs"), "mod a;\n", "nothing was edited");

        let message = plan(&dir).apply(dir.path()).unwrap_err().to_string();
        assert!(
            message.starts_with("tests/receipt.rs already exists; nothing was written"),
            "{message}"
        );
    }

    #[test]
    fn every_existing_file_is_named() {
        let dir = TestDir::new("plan-names-all");
        fs::create_dir_all(dir.path().join("src/listeners")).unwrap();
        fs::create_dir(dir.path().join("tests")).unwrap();
        fs::write(dir.path().join("src/listeners/receipt.rs"), "").unwrap();
        fs::write(dir.path().join("tests/receipt.rs"), "").unwrap();
        let message = plan(&dir).apply(dir.path()).unwrap_err().to_string();
        assert!(
            message.starts_with(
                "src/listeners/receipt.rs, tests/receipt.rs already exist; nothing was written"
            ),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_counts_as_existing() {
        let dir = TestDir::new("plan-symlink");
        fs::create_dir(dir.path().join("tests")).unwrap();
        std::os::unix::fs::symlink("/nowhere/at/all", dir.path().join("tests/receipt.rs")).unwrap();
        assert!(matches!(
            plan(&dir).apply(dir.path()),
            Err(WriteError::Exists { .. })
        ));
    }

    #[test]
    fn a_changed_file_stops_it() {
        let dir = TestDir::new("plan-changed");
        let plan = plan(&dir);
        fs::write(dir.path().join("mod.rs"), "mod a;\nmod other;\n").unwrap();
        assert!(matches!(
            plan.apply(dir.path()),
            Err(WriteError::Changed { .. })
        ));
        assert!(!dir.path().join("src").exists());
    }

    #[test]
    fn a_failure_halfway_is_rolled_back() {
        let dir = TestDir::new("plan-rollback");
        let mut plan = plan(&dir);
        // The second file cannot be created: its parent is a file.
        fs::write(dir.path().join("tests"), "a file, not a directory").unwrap();
        plan.edit.clear();
        assert!(matches!(plan.apply(dir.path()), Err(WriteError::Io { .. })));
        assert!(
            !dir.path().join("src").exists(),
            "the first file and its dirs are gone"
        );
        assert_eq!(read(&dir, "tests"), "a file, not a directory");
    }
}
