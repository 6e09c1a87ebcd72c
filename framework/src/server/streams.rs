//! Which channels are streams: a listener's `history(...)`, or the
//! `[[history.channels]]` entry for its pattern, resolved like routing (the most
//! specific pattern that matches decides); and what users' streams keep.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{ConfigError, Settings};
use crate::registry::Registry;
use crate::stream::{HistorySpec, StreamSpecs};

/// The resolver the send path asks for every channel publication; checks the
/// configuration's entries against the registered listeners.
pub(super) fn specs(
    registry: &Arc<Registry>,
    settings: &Settings,
) -> Result<StreamSpecs, ConfigError> {
    let mut overrides = HashMap::new();
    for (i, entry) in settings.history.channels.iter().enumerate() {
        if !registry
            .channel_listeners()
            .any(|listener| listener.pattern() == entry.pattern)
        {
            let mut known: Vec<_> = registry.channel_listeners().map(|l| l.pattern()).collect();
            known.sort_unstable();
            return Err(ConfigError::setting(
                format!("history.channels[{i}].pattern"),
                format!(
                    "no channel listener has the pattern {:?}; the patterns are: {}",
                    entry.pattern,
                    known.join(", ")
                ),
            ));
        }
        overrides.insert(
            entry.pattern.clone(),
            HistorySpec::new(entry.size, entry.ttl_secs),
        );
    }
    let any = !overrides.is_empty()
        || registry
            .channel_listeners()
            .any(|listener| listener.history().is_some());
    if !any {
        return Ok(Arc::new(|_: &str| None)); // no stream anywhere: no lookup per send
    }
    let registry = registry.clone();
    Ok(Arc::new(move |channel: &str| {
        let (listener, _) = registry.resolve(channel)?;
        overrides
            .get(listener.pattern())
            .copied()
            .or(listener.history())
    }))
}

/// What each user's stream keeps (`[history.users]`); `None` when they are off.
pub(super) fn user_spec(settings: &Settings) -> Option<HistorySpec> {
    let users = &settings.history.users;
    (users.size > 0).then(|| HistorySpec::new(users.size, users.ttl_secs))
}
