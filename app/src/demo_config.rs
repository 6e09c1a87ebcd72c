//! `config/Demo.toml`: the demo's own settings.

use std::path::Path;

use serde::Deserialize;

/// What the demo application reads beside Switchboard's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// Serve `POST /api/token` (development only).
    pub dev_tokens: bool,
    /// Lifetime of a dev token, in seconds.
    pub token_ttl_secs: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            dev_tokens: true,
            token_ttl_secs: 3600,
        }
    }
}

/// Why `Demo.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DemoConfigError {
    /// Unreadable file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bad TOML, unknown key or wrong type (toml names the key and line).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl DemoConfig {
    /// Reads the file.
    pub fn load(path: &Path) -> Result<Self, DemoConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DemoConfigError::Read {
            path: name.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| DemoConfigError::Invalid {
            path: name,
            message: e.to_string(),
        })
    }
}
