use std::path::PathBuf;

/// Why the configuration could not be used. Every variant names where the bad value
/// came from: the file, or the environment variable that overrode it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{origin}: not valid TOML: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key is unknown, or its value has the wrong type or is out of range.
    #[error("{origin}: key `{key}`: {message}")]
    Invalid {
        /// The file, or `environment variable NAME`.
        origin: String,
        /// The dotted key path, e.g. `limits.outbound_queue`.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

impl ConfigError {
    /// The dotted key the error is about, when it is about one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}
