use std::collections::HashMap;

use regex::Regex;
use switchboard_pattern::{Pattern, Segment};

use super::records::{ChannelRegistration, SocketRegistration};
use crate::listener::Params;
use crate::protocol::events;

/// Why the registered listeners cannot serve together. Raised when the server starts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A pattern does not parse (the macro checks this at compile time; this guards
    /// registrations written by hand).
    #[error("channel listener `{listener}`: invalid pattern `{pattern}`: {reason}")]
    InvalidPattern {
        /// The listener type.
        listener: &'static str,
        /// The pattern.
        pattern: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Two patterns match some channel name with equal specificity.
    #[error(
        "channel listeners `{first}` (`{first_pattern}`) and `{second}` (`{second_pattern}`) both match `{example}` with equal specificity; make one pattern more specific"
    )]
    AmbiguousPatterns {
        /// One listener type.
        first: &'static str,
        /// Its pattern.
        first_pattern: &'static str,
        /// The other listener type.
        second: &'static str,
        /// Its pattern.
        second_pattern: &'static str,
        /// A channel name both match.
        example: String,
    },
    /// Two socket listeners handle one event.
    #[error("socket listeners `{first}` and `{second}` both handle event `{event}`")]
    DuplicateSocketEvent {
        /// The event.
        event: &'static str,
        /// One listener type.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// A listener handles an event name the protocol reserves.
    #[error("listener `{listener}`: event `{event}` is reserved by the protocol")]
    ReservedEvent {
        /// The listener type.
        listener: &'static str,
        /// The event.
        event: &'static str,
    },
}

/// One channel listener, ready to match names.
#[derive(Debug)]
pub(crate) struct ChannelRoute {
    pub(crate) registration: &'static ChannelRegistration,
    regex: Regex,
    /// Wildcard names in capture order (`None` for `*`).
    names: Vec<Option<String>>,
}

impl ChannelRoute {
    pub(crate) fn handles(&self, event: &str) -> bool {
        self.registration.events.contains(&event)
    }
}

/// The routing table: channel patterns, most specific first, and socket events.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    routes: Vec<ChannelRoute>,
    sockets: HashMap<&'static str, &'static SocketRegistration>,
}

const RESERVED: [&str; 9] = [
    events::READY,
    events::PING,
    events::PONG,
    events::SUBSCRIBE_REQUEST,
    events::SUBSCRIBE_RESPONSE,
    events::UNSUBSCRIBE_REQUEST,
    events::UNSUBSCRIBE_RESPONSE,
    events::ACK,
    events::ERROR,
];

impl Registry {
    /// Every listener the binary registered through the macros.
    pub(crate) fn from_inventory() -> Result<Self, RegistryError> {
        Self::new(
            inventory::iter::<ChannelRegistration>(),
            inventory::iter::<SocketRegistration>(),
        )
    }

    pub(crate) fn new(
        channels: impl IntoIterator<Item = &'static ChannelRegistration>,
        sockets: impl IntoIterator<Item = &'static SocketRegistration>,
    ) -> Result<Self, RegistryError> {
        let mut channels: Vec<_> = channels.into_iter().collect();
        let mut sockets: Vec<_> = sockets.into_iter().collect();
        // Sorted so that errors and routing never depend on link order.
        channels.sort_by_key(|r| (r.pattern, r.name));
        sockets.sort_by_key(|r| (r.event, r.name));

        let mut parsed = Vec::with_capacity(channels.len());
        for registration in &channels {
            let pattern = Pattern::parse(registration.pattern).map_err(|e| {
                RegistryError::InvalidPattern {
                    listener: registration.name,
                    pattern: registration.pattern,
                    reason: e.to_string(),
                }
            })?;
            if let Some(event) = registration.events.iter().find(|e| RESERVED.contains(e)) {
                return Err(RegistryError::ReservedEvent {
                    listener: registration.name,
                    event,
                });
            }
            parsed.push((*registration, pattern));
        }
        check_ambiguity(&parsed)?;

        let mut routes = Vec::with_capacity(parsed.len());
        for (registration, pattern) in parsed {
            let regex =
                Regex::new(&pattern.to_regex()).map_err(|e| RegistryError::InvalidPattern {
                    listener: registration.name,
                    pattern: registration.pattern,
                    reason: format!("does not compile to a regex: {e}"),
                })?;
            let names = pattern
                .segments()
                .iter()
                .filter_map(|s| match s {
                    Segment::Wildcard { name } => Some(name.clone()),
                    Segment::Literal(_) => None,
                })
                .collect();
            routes.push((
                pattern.rank(),
                ChannelRoute {
                    registration,
                    regex,
                    names,
                },
            ));
        }
        // Most specific first; the sort is stable, so equal ranks keep the name order.
        routes.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
        let routes = routes.into_iter().map(|(_, route)| route).collect();

        let mut by_event: HashMap<&'static str, &'static SocketRegistration> = HashMap::new();
        for registration in sockets {
            if RESERVED.contains(&registration.event) {
                return Err(RegistryError::ReservedEvent {
                    listener: registration.name,
                    event: registration.event,
                });
            }
            if let Some(first) = by_event.insert(registration.event, registration) {
                return Err(RegistryError::DuplicateSocketEvent {
                    event: registration.event,
                    first: first.name,
                    second: registration.name,
                });
            }
        }
        Ok(Self {
            routes,
            sockets: by_event,
        })
    }

    /// The most specific channel listener matching `channel`, with its wildcard values.
    pub(crate) fn resolve(&self, channel: &str) -> Option<(&ChannelRoute, Params)> {
        self.routes.iter().find_map(|route| {
            let captures = route.regex.captures(channel)?;
            let params = Params::from_pairs(route.names.iter().enumerate().map(|(i, name)| {
                (
                    name.as_deref(),
                    captures.get(i + 1).map_or("", |m| m.as_str()),
                )
            }));
            Some((route, params))
        })
    }

    /// The socket listener for a direct event.
    pub(crate) fn socket(&self, event: &str) -> Option<&'static SocketRegistration> {
        self.sockets.get(event).copied()
    }

    /// Every channel listener, most specific pattern first.
    pub(crate) fn routes(&self) -> impl Iterator<Item = &ChannelRoute> {
        self.routes.iter()
    }
}

fn check_ambiguity(
    parsed: &[(&'static ChannelRegistration, Pattern)],
) -> Result<(), RegistryError> {
    let patterns: Vec<&Pattern> = parsed.iter().map(|(_, p)| p).collect();
    let Some((a, b)) = switchboard_pattern::find_conflicts(&patterns)
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let registration = |p: &Pattern| {
        parsed
            .iter()
            .find(|(_, q)| std::ptr::eq(q, p))
            .map(|(r, _)| *r)
    };
    let (Some(first), Some(second)) = (registration(a), registration(b)) else {
        return Ok(());
    };
    Err(RegistryError::AmbiguousPatterns {
        first: first.name,
        first_pattern: first.pattern,
        second: second.name,
        second_pattern: second.pattern,
        example: a
            .shortest_common_name(b)
            .unwrap_or_else(|| b.source().to_owned()),
    })
}
