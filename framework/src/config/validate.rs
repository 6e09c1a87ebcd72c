use super::{ConfigError, Settings};

/// Longest heartbeat interval accepted: past it, dead peers and half-open connections
/// would go unnoticed for longer than any proxy keeps an idle connection.
const MAX_HEARTBEAT_INTERVAL_SECS: u64 = 300;

/// Longest `auth.refresh_window_secs`: a warning a day ahead is already a refresh policy.
const MAX_REFRESH_WINDOW_SECS: u64 = 86_400;

/// Largest `limits.max_message_bytes` accepted: one message may not pin more memory.
const MAX_MESSAGE_BYTES_CEILING: usize = 16 * 1024 * 1024;

/// A table or column name as `[[watch]]` may write it: letters, digits and `_`, not
/// starting with a digit (it goes into SQL, quoted, and into trigger names).
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Settings {
    /// `[[watch]]` entries: names that can go into SQL, a channel template that makes
    /// valid channel names, and a source to watch with.
    fn validate_watches(&self) -> Result<(), ConfigError> {
        let invalid = |key: String, message: String| ConfigError::setting(key, message);
        for (i, watch) in self.watch.iter().enumerate() {
            let key = |field: &str| format!("watch[{i}].{field}");
            let parts: Vec<&str> = watch.table.split('.').collect();
            if parts.len() > 2 || !parts.iter().all(|p| is_identifier(p)) {
                return Err(invalid(
                    key("table"),
                    format!(
                        "{:?} is not a table name (`table` or `schema.table`)",
                        watch.table
                    ),
                ));
            }
            if let Some(column) = watch.columns().into_iter().find(|c| !is_identifier(c)) {
                return Err(invalid(
                    key("channel"),
                    format!("{{{column}}} is not a column name"),
                ));
            }
            let example = watch
                .columns()
                .iter()
                .fold(watch.channel.clone(), |name, c| {
                    name.replace(&format!("{{{c}}}"), "1")
                });
            if let Err(e) = switchboard_pattern::validate_channel_name(&example) {
                return Err(invalid(
                    key("channel"),
                    format!("{:?} does not make channel names: {e}", watch.channel),
                ));
            }
            if watch.event.is_empty() {
                return Err(invalid(key("event"), "must not be empty".into()));
            }
            if self.postgres.url.is_empty() {
                return Err(invalid(
                    key("table"),
                    "watching a table needs the PostgreSQL source: set [postgres] url \
                     (SWITCHBOARD__POSTGRES__URL)"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Checks ranges and relations between keys that types alone cannot express.
    /// [`Settings::load`] calls it; call it yourself on settings built in code.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::setting(key, message);
        if !self.path.starts_with('/') {
            return Err(invalid(
                "path",
                format!("must start with '/', got {:?}", self.path),
            ));
        }
        if bind_port(&self.server.bind).is_none() {
            return Err(invalid(
                "server.bind",
                format!("must be host:port, got {:?}", self.server.bind),
            ));
        }
        for (i, channel) in self.history.channels.iter().enumerate() {
            if channel.size == 0 {
                return Err(invalid(
                    &format!("history.channels[{i}].size"),
                    "must be at least 1".into(),
                ));
            }
            if channel.ttl_secs == 0 {
                return Err(invalid(
                    &format!("history.channels[{i}].ttl_secs"),
                    "must be at least 1".into(),
                ));
            }
        }
        if self.history.users.size > 0 && self.history.users.ttl_secs == 0 {
            return Err(invalid(
                "history.users.ttl_secs",
                "must be at least 1".into(),
            ));
        }
        self.validate_watches()?;
        let lease = self.presence.lease_secs;
        if lease == 0 || lease > super::MAX_PRESENCE_LEASE_SECS {
            return Err(invalid(
                "presence.lease_secs",
                format!(
                    "must be between 1 and {}, got {lease}",
                    super::MAX_PRESENCE_LEASE_SECS
                ),
            ));
        }
        if self.server.backlog == 0 {
            return Err(invalid("server.backlog", "must be at least 1".into()));
        }
        let hb = &self.heartbeat;
        if hb.interval_secs == 0 || hb.interval_secs > MAX_HEARTBEAT_INTERVAL_SECS {
            return Err(invalid(
                "heartbeat.interval_secs",
                format!("must be between 1 and {MAX_HEARTBEAT_INTERVAL_SECS}"),
            ));
        }
        if hb.timeout_secs <= hb.interval_secs {
            return Err(invalid(
                "heartbeat.timeout_secs",
                format!(
                    "must be greater than heartbeat.interval_secs ({}), got {}",
                    hb.interval_secs, hb.timeout_secs
                ),
            ));
        }
        if self.auth.refresh_window_secs > MAX_REFRESH_WINDOW_SECS {
            return Err(invalid(
                "auth.refresh_window_secs",
                format!(
                    "must be at most {MAX_REFRESH_WINDOW_SECS} (a day), got {}",
                    self.auth.refresh_window_secs
                ),
            ));
        }
        let limits = &self.limits;
        if !(128..=MAX_MESSAGE_BYTES_CEILING).contains(&limits.max_message_bytes) {
            return Err(invalid(
                "limits.max_message_bytes",
                format!(
                    "must be between 128 and {MAX_MESSAGE_BYTES_CEILING}, got {}",
                    limits.max_message_bytes
                ),
            ));
        }
        if limits.outbound_queue == 0 {
            return Err(invalid(
                "limits.outbound_queue",
                "must be at least 1".into(),
            ));
        }
        if limits.max_subscriptions == 0 {
            return Err(invalid(
                "limits.max_subscriptions",
                "must be at least 1".into(),
            ));
        }
        if limits.messages_per_second == 0 || limits.burst == 0 {
            return Err(invalid(
                "limits.messages_per_second",
                "messages_per_second and burst must both be at least 1".into(),
            ));
        }
        if limits.outbound_queue_bytes < 1024 {
            return Err(invalid(
                "limits.outbound_queue_bytes",
                "must be at least 1024".into(),
            ));
        }
        if limits.write_timeout_secs == 0 {
            return Err(invalid(
                "limits.write_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        if limits.channel_queue == 0 {
            return Err(invalid("limits.channel_queue", "must be at least 1".into()));
        }
        if limits.handler_timeout_secs == 0 {
            return Err(invalid(
                "limits.handler_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        if limits.handshake_timeout_secs == 0 {
            return Err(invalid(
                "limits.handshake_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        let prefix = &self.routes_prefix;
        let prefix_chars = |c: char| c.is_ascii_alphanumeric() || "/-_.".contains(c);
        if !prefix.starts_with('/')
            || prefix.len() < 2
            || prefix.ends_with('/')
            || !prefix.chars().all(prefix_chars)
        {
            return Err(invalid(
                "routes_prefix",
                format!(
                    "must be a path such as \"/switchboard\" (a leading '/', no trailing one, letters, digits, '-', '_', '.'), got {prefix:?}"
                ),
            ));
        }
        if !self.server.internal_bind.is_empty() && bind_port(&self.server.internal_bind).is_none()
        {
            return Err(invalid(
                "server.internal_bind",
                format!(
                    "must be host:port or empty, got {:?}",
                    self.server.internal_bind
                ),
            ));
        }
        if self.http_api.enabled && self.http_api.key.expose().len() < 32 {
            return Err(invalid(
                "http_api.key",
                "the HTTP API needs a key of at least 32 bytes; set SWITCHBOARD__HTTP_API__KEY"
                    .into(),
            ));
        }
        if let Some(origin) = self
            .auth
            .allowed_origins
            .iter()
            .find(|o| !o.contains("://") || o.ends_with('/'))
        {
            return Err(invalid(
                "auth.allowed_origins",
                format!(
                    "{origin:?} is not an origin like \"https://app.example.com\" (scheme, host, optional port, no path)"
                ),
            ));
        }
        let backplane = &self.backplane;
        // `:` separates the prefix from the topic kind: a prefix with one could name
        // another deployment's topics (`app:ch` would overlap `app`'s channel `ch:…`).
        if backplane.prefix.is_empty()
            || backplane.prefix.contains(char::is_whitespace)
            || backplane.prefix.contains(':')
        {
            return Err(invalid(
                "backplane.prefix",
                format!(
                    "must be a non-empty word without spaces or ':', got {:?}",
                    backplane.prefix
                ),
            ));
        }
        if backplane.publish_queue_bytes < 64 * 1024 {
            return Err(invalid(
                "backplane.publish_queue_bytes",
                "must be at least 65536".into(),
            ));
        }
        if backplane.publish_queue == 0 {
            return Err(invalid(
                "backplane.publish_queue",
                "must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

fn bind_port(bind: &str) -> Option<u16> {
    let (host, port) = bind.rsplit_once(':')?;
    (!host.is_empty()).then_some(())?;
    port.parse().ok()
}
