use std::collections::HashMap;

use switchboard_pattern::Pattern;

use super::records::{ChannelRegistration, Erased, SocketRegistration};
use crate::listener::{Params, UserType};
use crate::protocol::events::RESERVED;

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
    /// A listener asks for a user type the user resolver does not produce.
    #[error(
        "listener `{listener}` takes the user as `{wants}`, but the user resolver produces `{produced}`; pass a resolver for `{wants}` with Switchboard::builder(settings).resolve_users(..)"
    )]
    UserTypeMismatch {
        /// The listener type.
        listener: &'static str,
        /// The user type it asks for.
        wants: &'static str,
        /// The type the resolver produces.
        produced: &'static str,
    },
    /// A listener asks for state that was not registered.
    #[error(
        "listener `{listener}` takes `State<{state}>`, but no such state was registered; add it with Switchboard::builder(settings).state(value)"
    )]
    MissingState {
        /// The listener type.
        listener: &'static str,
        /// The state type it asks for.
        state: &'static str,
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
struct ChannelRoute {
    pub(crate) registration: &'static ChannelRegistration,
    /// Matched with the pattern crate's own (fuzz-checked) matcher: no regex engine.
    pattern: Pattern,
}

/// A socket listener and its one shared instance.
#[derive(Debug)]
pub(crate) struct SocketRoute {
    pub(crate) registration: &'static SocketRegistration,
    pub(crate) listener: Erased,
}

/// The routing table: channel patterns, most specific first, and socket events.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    routes: Vec<ChannelRoute>,
    sockets: HashMap<&'static str, SocketRoute>,
}

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
            routes.push((
                pattern.rank(),
                ChannelRoute {
                    registration,
                    pattern,
                },
            ));
        }
        // Most specific first; the sort is stable, so equal ranks keep the name order.
        routes.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
        let routes = routes.into_iter().map(|(_, route)| route).collect();

        let mut by_event: HashMap<&'static str, SocketRoute> = HashMap::new();
        for registration in sockets {
            if RESERVED.contains(&registration.event) {
                return Err(RegistryError::ReservedEvent {
                    listener: registration.name,
                    event: registration.event,
                });
            }
            if let Some(first) = by_event.get(registration.event) {
                return Err(RegistryError::DuplicateSocketEvent {
                    event: registration.event,
                    first: first.registration.name,
                    second: registration.name,
                });
            }
            let listener = (registration.create)();
            by_event.insert(
                registration.event,
                SocketRoute {
                    registration,
                    listener,
                },
            );
        }
        Ok(Self {
            routes,
            sockets: by_event,
        })
    }

    /// The most specific channel listener matching `channel`, with its wildcard values.
    /// Every channel listener, most specific pattern first.
    pub(crate) fn channel_listeners(&self) -> impl Iterator<Item = &'static ChannelRegistration> {
        self.routes.iter().map(|route| route.registration)
    }

    pub(crate) fn resolve(&self, channel: &str) -> Option<(&'static ChannelRegistration, Params)> {
        self.routes.iter().find_map(|route| {
            let captures = route.pattern.matches(channel)?;
            Some((route.registration, Params::from_pairs(captures.iter())))
        })
    }

    /// Every listener's name with what its parameters ask for: user types, state types.
    fn listener_types(
        &self,
    ) -> impl Iterator<Item = (&'static str, &'static [UserType], &'static [UserType])> + '_ {
        let channels = self.routes.iter().map(|r| {
            let reg = r.registration;
            (reg.name, reg.user_types, reg.state_types)
        });
        let sockets = self.sockets.values().map(|s| {
            let reg = s.registration;
            (reg.name, reg.user_types, reg.state_types)
        });
        channels.chain(sockets)
    }

    /// Checks that every listener asks for the user type the resolver produces, so a
    /// mismatch stops the server at start rather than failing each event.
    pub(crate) fn check_user_type(&self, produced: UserType) -> Result<(), RegistryError> {
        for (listener, wants, _) in self.listener_types() {
            if let Some(wrong) = wants.iter().find(|t| t.id() != produced.id()) {
                return Err(RegistryError::UserTypeMismatch {
                    listener,
                    wants: wrong.name(),
                    produced: produced.name(),
                });
            }
        }
        Ok(())
    }

    /// Checks that every `State<T>` a listener asks for was registered, so a missing
    /// one stops the server at start, naming the listener and the type.
    pub(crate) fn check_states(
        &self,
        registered: impl Fn(std::any::TypeId) -> bool,
    ) -> Result<(), RegistryError> {
        for (listener, _, wants) in self.listener_types() {
            if let Some(missing) = wants.iter().find(|t| !registered(t.id())) {
                return Err(RegistryError::MissingState {
                    listener,
                    state: missing.name(),
                });
            }
        }
        Ok(())
    }

    /// The socket listener for a direct event.
    pub(crate) fn socket(&self, event: &str) -> Option<&SocketRoute> {
        self.sockets.get(event)
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::listener::{AuthFuture, EventFuture, Invocation};

    fn create() -> Erased {
        Arc::new(())
    }
    fn authorise(_: Erased, _: Invocation) -> AuthFuture {
        Box::pin(async { Ok(()) })
    }
    fn dispatch(_: Erased, _: &str, _: Invocation) -> Option<EventFuture> {
        None
    }
    fn handle(_: Erased, _: Invocation) -> EventFuture {
        Box::pin(async { Ok(serde_json::Value::Null) })
    }

    fn channel(name: &'static str, pattern: &'static str) -> &'static ChannelRegistration {
        channel_with_events(name, pattern, &[])
    }

    fn channel_with_events(
        name: &'static str,
        pattern: &'static str,
        events: &'static [&'static str],
    ) -> &'static ChannelRegistration {
        Box::leak(Box::new(ChannelRegistration {
            name,
            pattern,
            events,
            user_types: &[],
            state_types: &[],
            history: None,
            presence: None,
            create,
            authorise,
            dispatch,
            middlewares: |_| Vec::new(),
            on_join: None,
            on_leave: None,
        }))
    }

    fn socket(name: &'static str, event: &'static str) -> &'static SocketRegistration {
        Box::leak(Box::new(SocketRegistration {
            name,
            event,
            user_types: &[],
            state_types: &[],
            create,
            handle,
        }))
    }

    fn registry(channels: &[&'static ChannelRegistration]) -> Registry {
        Registry::new(channels.iter().copied(), []).expect("valid registry")
    }

    fn winner(registry: &Registry, name: &str) -> Option<&'static str> {
        registry.resolve(name).map(|(r, _)| r.name)
    }

    #[test]
    fn most_specific_pattern_wins_whatever_the_order() {
        let wide = channel("Wide", "user:*");
        let narrow = channel("Narrow", "user:chat.*");
        for order in [[wide, narrow], [narrow, wide]] {
            let r = registry(&order);
            assert_eq!(winner(&r, "user:chat.42"), Some("Narrow"));
            assert_eq!(winner(&r, "user:profile"), Some("Wide"));
            assert_eq!(winner(&r, "room.1"), None);
        }
    }

    #[test]
    fn params_by_name_and_position() {
        let r = registry(&[channel("Dm", "dm:{from}.{to}"), channel("Room", "room.*")]);
        let (_, params) = r.resolve("dm:alice.bob").expect("matches");
        assert_eq!(params.get("from"), Some("alice"));
        assert_eq!(params.get("to"), Some("bob"));
        let (_, params) = r.resolve("room.a.b").expect("matches");
        assert_eq!(params.get_index(0), Some("a.b"));
        assert_eq!(params.get("id"), None);
    }

    #[test]
    fn a_wildcard_never_crosses_a_colon_or_matches_empty() {
        let r = registry(&[channel("Chat", "user:chat.*")]);
        assert_eq!(winner(&r, "user:chat."), None);
        assert_eq!(winner(&r, "user:chat.1:2"), None);
        assert_eq!(winner(&r, "xuser:chat.1"), None, "anchored at the start");
    }

    #[test]
    fn exact_patterns_match_only_themselves() {
        let r = registry(&[channel("Global", "global-chat")]);
        assert_eq!(winner(&r, "global-chat"), Some("Global"));
        assert_eq!(winner(&r, "global-chatter"), None);
        assert_eq!(winner(&r, "globalXchat"), None, "literals are escaped");
    }

    #[test]
    fn ambiguous_patterns_are_refused_naming_both() {
        let e = Registry::new([channel("A", "a:*"), channel("B", "*:b")], [])
            .expect_err("a:b matches both with equal rank");
        let text = e.to_string();
        assert!(
            text.contains("`A` (`a:*`)") && text.contains("`B` (`*:b`)"),
            "{text}"
        );
        assert!(text.contains("`a:b`"), "names an example: {text}");
    }

    #[test]
    fn duplicate_patterns_are_refused() {
        let e = Registry::new([channel("A", "room.{id}"), channel("B", "room.*")], [])
            .expect_err("same language");
        assert!(matches!(e, RegistryError::AmbiguousPatterns { .. }), "{e}");
    }

    #[test]
    fn overlapping_patterns_of_different_rank_are_fine() {
        registry(&[channel("Room", "room.*"), channel("Sub", "room.*.x")]);
    }

    #[test]
    fn two_socket_listeners_for_one_event_are_refused() {
        let e = Registry::new([], [socket("Echo", "echo"), socket("Echo2", "echo")])
            .expect_err("duplicate event");
        assert_eq!(
            e.to_string(),
            "socket listeners `Echo` and `Echo2` both handle event `echo`"
        );
    }

    #[test]
    fn reserved_events_are_refused() {
        let e = Registry::new([], [socket("Sneaky", "pong")]).expect_err("reserved");
        assert!(matches!(
            e,
            RegistryError::ReservedEvent { event: "pong", .. }
        ));
        let e = Registry::new([channel_with_events("C", "c", &["ack"])], []).expect_err("reserved");
        assert!(matches!(
            e,
            RegistryError::ReservedEvent { event: "ack", .. }
        ));
    }

    #[test]
    fn an_invalid_pattern_written_by_hand_is_refused() {
        let e = Registry::new([channel("Bad", "a b")], []).expect_err("bad char");
        assert!(
            e.to_string()
                .starts_with("channel listener `Bad`: invalid pattern `a b`"),
            "{e}"
        );
    }
}
