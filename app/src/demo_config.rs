//! `config/Demo.toml`: the demo's own settings.

use std::path::Path;

use serde::Deserialize;

/// Shortest `dev_secret` accepted: the `jwt` middleware wants 32 bytes for HS256.
const MIN_DEV_SECRET_BYTES: usize = 32;

/// What the demo application reads beside Switchboard's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// Serve `POST /api/token`, which signs a token for any name (development only).
    /// Refuses to start beside a configured `jwt.secret`: see [`crate::start`].
    pub dev_tokens: bool,
    /// The development secret dev tokens are signed with; empty means a throwaway
    /// one generated at start. Pinned only so tokens survive a restart (tests).
    pub dev_secret: String,
    /// Lifetime of a dev token, in seconds (short: the page refreshes it in-band).
    pub token_ttl_secs: u64,
    /// Publications each `room.{id}` keeps for clients that reconnect (0: rooms are
    /// not streams). Sets Switchboard's `[[history.channels]]` for the room pattern
    /// unless `Websockets.toml` has an entry of its own.
    pub room_history: usize,
    /// Seconds a room's history is kept after its last message.
    pub room_history_ttl_secs: u64,
    /// Notifications kept per user for devices that reconnect (0: none). Sets
    /// Switchboard's `[history.users]` unless `Websockets.toml` turns it on itself.
    pub user_history: usize,
    /// Seconds a user's notifications are kept after the last one.
    pub user_history_ttl_secs: u64,
    /// PostgreSQL for the rooms (`postgres://...`): their messages live there, and the
    /// PostgreSQL source signals every insert, whoever makes it. Empty: in memory. The
    /// `DATABASE_URL` environment variable sets it too.
    pub database_url: String,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            dev_tokens: true,
            dev_secret: String::new(),
            token_ttl_secs: 300,
            room_history: 100,
            room_history_ttl_secs: 600,
            user_history: 50,
            user_history_ttl_secs: 3600,
            database_url: String::new(),
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
    /// Bad TOML, unknown key, wrong type or unusable value (names the key).
    #[error("{path}: {message}")]
    Invalid {
        /// The file, or the environment variable.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl DemoConfig {
    /// Reads the file, then the `SWITCHBOARD_DEMO__<KEY>` environment overrides.
    pub fn load(path: &Path) -> Result<Self, DemoConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| DemoConfigError::Read {
            path: name.clone(),
            source,
        })?;
        let mut config: Self = toml::from_str(&text).map_err(|e| DemoConfigError::Invalid {
            path: name.clone(),
            message: e.to_string(),
        })?;
        config.apply_env(std::env::vars())?;
        config.check().map_err(|message| DemoConfigError::Invalid {
            path: name,
            message,
        })?;
        Ok(config)
    }

    /// Applies `SWITCHBOARD_DEMO__DEV_TOKENS`, `__DEV_SECRET`, `__TOKEN_TTL_SECS`,
    /// `__ROOM_HISTORY` and `__ROOM_HISTORY_TTL_SECS`.
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), DemoConfigError> {
        for (var, value) in vars {
            let Some(key) = var.strip_prefix("SWITCHBOARD_DEMO__") else {
                continue;
            };
            let bad = |expected: &str| DemoConfigError::Invalid {
                path: var.clone(),
                message: format!("expected {expected}, got {value:?}"),
            };
            match key.to_ascii_lowercase().as_str() {
                "dev_tokens" => {
                    self.dev_tokens = value.parse().map_err(|_| bad("true or false"))?
                }
                "dev_secret" => self.dev_secret.clone_from(&value),
                "token_ttl_secs" => {
                    self.token_ttl_secs = value.parse().map_err(|_| bad("a number of seconds"))?;
                }
                "room_history" => {
                    self.room_history = value.parse().map_err(|_| bad("a number"))?;
                }
                "room_history_ttl_secs" => {
                    self.room_history_ttl_secs =
                        value.parse().map_err(|_| bad("a number of seconds"))?;
                }
                "user_history" => {
                    self.user_history = value.parse().map_err(|_| bad("a number"))?;
                }
                "user_history_ttl_secs" => {
                    self.user_history_ttl_secs =
                        value.parse().map_err(|_| bad("a number of seconds"))?;
                }
                "database_url" => self.database_url.clone_from(&value),
                _ => {
                    return Err(DemoConfigError::Invalid {
                        path: var.clone(),
                        message: "unknown key (dev_tokens, dev_secret, token_ttl_secs, \
                                  room_history, room_history_ttl_secs, user_history, \
                                  user_history_ttl_secs, database_url)"
                            .into(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Values serde cannot check, with the key named.
    pub fn check(&self) -> Result<(), String> {
        if !self.dev_secret.is_empty() && self.dev_secret.len() < MIN_DEV_SECRET_BYTES {
            return Err(format!(
                "dev_secret: at least {MIN_DEV_SECRET_BYTES} bytes (got {})",
                self.dev_secret.len()
            ));
        }
        if self.token_ttl_secs == 0 {
            return Err("token_ttl_secs: must be at least 1".into());
        }
        if self.room_history > 0 && self.room_history_ttl_secs == 0 {
            return Err("room_history_ttl_secs: must be at least 1".into());
        }
        if self.user_history > 0 && self.user_history_ttl_secs == 0 {
            return Err("user_history_ttl_secs: must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn environment_overrides_name_the_variable_when_wrong() {
        let mut config = DemoConfig::default();
        config
            .apply_env(env(&[
                ("SWITCHBOARD_DEMO__DEV_TOKENS", "false"),
                ("SWITCHBOARD__JWT__SECRET", "not ours"),
            ]))
            .expect("applies");
        assert!(!config.dev_tokens);
        let error = config
            .apply_env(env(&[("SWITCHBOARD_DEMO__TOKEN_TTL_SECS", "soon")]))
            .expect_err("not a number");
        assert!(
            error
                .to_string()
                .contains("SWITCHBOARD_DEMO__TOKEN_TTL_SECS"),
            "{error}"
        );
        let error = config
            .apply_env(env(&[("SWITCHBOARD_DEMO__DEV_TOKEN", "true")]))
            .expect_err("misspelt");
        assert!(error.to_string().contains("unknown key"), "{error}");
    }

    #[test]
    fn a_short_dev_secret_is_refused_with_its_key() {
        let config = DemoConfig {
            dev_secret: "short".into(),
            ..DemoConfig::default()
        };
        assert!(
            config
                .check()
                .expect_err("too short")
                .contains("dev_secret")
        );
    }
}
