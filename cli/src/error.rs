//! Every way the command can fail, one enum per step, gathered here for `main`.

use std::path::PathBuf;

use thiserror::Error;

use crate::args::ArgsError;
use crate::channel::PatternProblem;
use crate::manifest::ManifestError;
use crate::module_tree::TreeError;
use crate::names::NameError;
use crate::plan::WriteError;
use crate::templates::UnfilledHole;

/// Why nothing was generated.
#[derive(Debug, Error)]
pub enum Error {
    /// The command line (the usage text follows the message).
    #[error(transparent)]
    Args(#[from] ArgsError),
    /// The listener name or the event name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The channel pattern, with the pattern crate's message.
    #[error(transparent)]
    Pattern(#[from] PatternProblem),
    /// The app's Cargo.toml.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The app has no crate root to declare the listeners module in.
    #[error(
        "{} has neither src/lib.rs nor src/main.rs; the generator adds the listener to \
         one of them",
        dir.display()
    )]
    NoCrateRoot {
        /// The app directory.
        dir: PathBuf,
    },
    /// A source file to extend cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The module tree cannot take the new module.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// Writing (including: a file to create exists).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A bug in a template.
    #[error(transparent)]
    Template(#[from] UnfilledHole),
}

impl Error {
    /// Whether the usage text helps: the command line itself was wrong.
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Args(_))
    }
}
