use std::collections::HashMap;
use std::path::Path;

use toml::{Table, Value};

use super::{ConfigError, Settings};

/// Environment variables starting with this override keys of the file.
pub const ENV_PREFIX: &str = "SWITCHBOARD__";

impl Settings {
    /// Reads `path`, applies `SWITCHBOARD__*` environment overrides, and validates.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string(), std::env::vars())
    }

    /// Parses TOML `text` (named `origin` in errors), applies the overrides among `env`
    /// whose names start with [`ENV_PREFIX`], and validates.
    pub fn from_toml_str(
        text: &str,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table: Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string(),
        })?;
        let overridden = apply_env(&mut table, env)?;
        let settings: Settings = serde_path_to_error::deserialize(table).map_err(|e| {
            let key = e.path().to_string();
            let origin = overridden.get(&key).map_or_else(
                || origin.to_owned(),
                |var| format!("environment variable {var}"),
            );
            ConfigError::Invalid {
                origin,
                key,
                message: e.into_inner().to_string(),
            }
        })?;
        settings.validate().map_err(|e| match e {
            ConfigError::Invalid { key, message, .. } => ConfigError::Invalid {
                origin: overridden.get(&key).map_or_else(
                    || origin.to_owned(),
                    |var| format!("environment variable {var}"),
                ),
                key,
                message,
            },
            other => other,
        })?;
        Ok(settings)
    }
}

/// Writes each `SWITCHBOARD__A__B=v` into `table` at `a.b`. Returns which dotted keys
/// came from which variable, so errors can name the variable rather than the file.
fn apply_env(
    table: &mut Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, ConfigError> {
    let defaults = Value::try_from(Settings::default()).ok();
    let mut overridden = HashMap::new();
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        let key = path.join(".");
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid {
                origin: format!("environment variable {var}"),
                key,
                message: "empty key segment; separate sections with a double underscore".into(),
            });
        }
        let value = parse_env_value(&raw, lookup(defaults.as_ref(), &path));
        insert(table, &path, value).map_err(|message| ConfigError::Invalid {
            origin: format!("environment variable {var}"),
            key: key.clone(),
            message,
        })?;
        overridden.insert(key, var);
    }
    Ok(overridden)
}

/// A string key stays the raw text (a numeric-looking secret is still a string);
/// anything else is read as a TOML value (`64`, `true`, `["jwt"]`).
fn parse_env_value(raw: &str, default: Option<&Value>) -> Value {
    if matches!(default, Some(Value::String(_)) | None) {
        return Value::String(raw.to_owned());
    }
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

fn lookup<'v>(root: Option<&'v Value>, path: &[String]) -> Option<&'v Value> {
    path.iter()
        .try_fold(root?, |value, segment| value.as_table()?.get(segment))
}

fn insert(table: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let (last, sections) = path.split_last().ok_or("empty key")?;
    let mut current = table;
    for section in sections {
        let entry = current
            .entry(section.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{section}` is not a section"))?;
    }
    current.insert(last.clone(), value);
    Ok(())
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

    fn refused(text: &str, vars: &[(&str, &str)]) -> ConfigError {
        match Settings::from_toml_str(text, "config/Websockets.toml", env(vars)) {
            Err(e) => e,
            Ok(s) => panic!("accepted: {s:?}"),
        }
    }

    #[test]
    fn empty_file_is_all_defaults() {
        let s = Settings::from_toml_str("", "x.toml", env(&[])).expect("valid");
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn unknown_key_is_named_with_the_file() {
        let e = refused("[limits]\nmax_mesage_bytes = 10\n", &[]);
        assert_eq!(e.key(), Some("limits.max_mesage_bytes"));
        let text = e.to_string();
        assert!(
            text.starts_with("config/Websockets.toml: key `limits.max_mesage_bytes`"),
            "{text}"
        );
        assert!(
            text.contains("max_message_bytes"),
            "suggests the known keys: {text}"
        );
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let e = refused("enabeld = true\n", &[]);
        assert_eq!(e.key(), Some("enabeld"));
    }

    #[test]
    fn wrong_type_is_named() {
        let e = refused("[heartbeat]\ninterval_secs = \"often\"\n", &[]);
        assert_eq!(e.key(), Some("heartbeat.interval_secs"));
        assert!(e.to_string().contains("invalid type"), "{e}");
    }

    #[test]
    fn wrong_enum_value_lists_the_choices() {
        let e = refused("[backplane]\nkind = \"carrier-pigeon\"\n", &[]);
        assert_eq!(e.key(), Some("backplane.kind"));
        assert!(e.to_string().contains("memory"), "{e}");
    }

    #[test]
    fn syntax_error_names_the_file() {
        let e = refused("path = \n", &[]);
        assert!(matches!(e, ConfigError::Syntax { .. }));
        assert!(
            e.to_string()
                .starts_with("config/Websockets.toml: not valid TOML"),
            "{e}"
        );
    }

    #[test]
    fn env_override_wins_over_file() {
        let s = Settings::from_toml_str(
            "path = \"/file\"\n[limits]\noutbound_queue = 10\n",
            "x.toml",
            env(&[
                ("SWITCHBOARD__PATH", "/env"),
                ("SWITCHBOARD__LIMITS__OUTBOUND_QUEUE", "20"),
                ("SWITCHBOARD__MIDDLEWARE", "[\"a\", \"b\"]"),
                ("UNRELATED", "1"),
            ]),
        )
        .expect("valid");
        assert_eq!(s.path, "/env");
        assert_eq!(s.limits.outbound_queue, 20);
        assert_eq!(s.middleware, ["a", "b"]);
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let e = refused("", &[("SWITCHBOARD__LIMITS__OUTBOUND_QUEUE", "lots")]);
        assert_eq!(e.key(), Some("limits.outbound_queue"));
        assert!(
            e.to_string()
                .starts_with("environment variable SWITCHBOARD__LIMITS__OUTBOUND_QUEUE"),
            "{e}"
        );
    }

    #[test]
    fn unknown_env_key_is_refused() {
        let e = refused("", &[("SWITCHBOARD__LIMITS__NOPE", "1")]);
        assert_eq!(e.key(), Some("limits.nope"));
        assert!(e.to_string().contains("SWITCHBOARD__LIMITS__NOPE"), "{e}");
    }

    #[test]
    fn a_prefix_with_a_colon_and_an_endless_heartbeat_are_refused() {
        let e = refused("[backplane]\nprefix = \"app:ch\"\n", &[]);
        assert_eq!(e.key(), Some("backplane.prefix"));
        let e = refused(
            "[heartbeat]\ninterval_secs = 86400\ntimeout_secs = 90000\n",
            &[],
        );
        assert_eq!(e.key(), Some("heartbeat.interval_secs"));
    }

    #[test]
    fn out_of_range_is_refused_by_validation() {
        let e = refused("[heartbeat]\ninterval_secs = 30\ntimeout_secs = 10\n", &[]);
        assert_eq!(e.key(), Some("heartbeat.timeout_secs"));
        let e = refused("path = \"ws\"\n", &[]);
        assert_eq!(e.key(), Some("path"));
        for lease in ["0", "3601"] {
            let e = refused(&format!("[presence]\nlease_secs = {lease}\n"), &[]);
            assert_eq!(e.key(), Some("presence.lease_secs"), "{e}");
        }
    }

    #[test]
    fn shipped_config_is_valid_and_documents_every_key() {
        let text = include_str!("../../../config/Websockets.toml");
        let s = Settings::from_toml_str(text, "config/Websockets.toml", env(&[])).expect("valid");
        let shipped = Value::try_from(&s).expect("serializes");
        fn keys(prefix: &str, v: &Value, out: &mut Vec<String>) {
            if let Value::Table(t) = v {
                for (k, v) in t {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    if v.is_table() {
                        keys(&path, v, out);
                    } else {
                        out.push(path);
                    }
                }
            }
        }
        // Values too: the file says it shows the defaults.
        let defaults = Value::try_from(Settings::default()).expect("serializes");
        assert_eq!(
            shipped, defaults,
            "config/Websockets.toml must show the default values"
        );
        let mut all = Vec::new();
        keys("", &shipped, &mut all);
        for key in all {
            let leaf = key.rsplit('.').next().unwrap_or(&key);
            let documented = text.lines().any(|l| {
                let l = l.trim_start_matches(['#', ' ']);
                l.starts_with(&format!("{leaf} =")) || l.starts_with(&format!("{leaf}="))
            });
            assert!(
                documented,
                "config/Websockets.toml does not show key `{key}`"
            );
        }
    }
}
