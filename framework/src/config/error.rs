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
    /// A value of settings built or loaded earlier that cannot be used (its origin is
    /// `settings`: the file it came from is no longer known).
    pub(crate) fn setting(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            origin: "settings".to_owned(),
            key: key.into(),
            message: message.into(),
        }
    }

    /// `key` asks for a part of the framework this build left out.
    pub(crate) fn missing_feature(key: &str, feature: &str) -> Self {
        Self::setting(
            key,
            format!(
                "this build has no `{feature}`: enable switchboard's `{feature}` cargo feature"
            ),
        )
    }

    /// The dotted key the error is about, when it is about one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}
