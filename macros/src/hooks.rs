//! Methods that `#[channel_events]` treats as hooks rather than events.

/// A hook: the framework calls it at a fixed moment, never for a client's event, so it
/// may be private and takes no `Packet<T>` or `EventContext`.
#[derive(Debug)]
pub(crate) struct Hook {
    /// The method name.
    pub(crate) name: &'static str,
    /// Whether it is an `async fn` (otherwise a plain `fn`).
    pub(crate) is_async: bool,
    /// Whether it takes parameters after `&self` (chosen by type, like an event's).
    pub(crate) takes_params: bool,
    /// Whether it may take an `EventContext` (to send on the channel).
    pub(crate) takes_context: bool,
}

/// Runs on subscribe; everyone is authorised when it is absent.
pub(crate) const IS_AUTHORISED: &str = "is_authorised";

/// Lists the listener's own middleware: `fn middlewares(&self) -> Vec<Arc<dyn Middleware>>`.
pub(crate) const MIDDLEWARES: &str = "middlewares";

/// Runs in the channel's actor once a connection has joined the channel.
pub(crate) const ON_JOIN: &str = "on_join";

/// Runs in the channel's actor once a connection has left it (`LeaveReason` says why).
pub(crate) const ON_LEAVE: &str = "on_leave";

/// Every hook. A method with one of these names is a hook, whatever else it looks like.
const HOOKS: &[Hook] = &[
    Hook {
        name: IS_AUTHORISED,
        is_async: true,
        takes_params: true,
        takes_context: false,
    },
    Hook {
        name: MIDDLEWARES,
        is_async: false,
        takes_params: false,
        takes_context: false,
    },
    Hook {
        name: ON_JOIN,
        is_async: true,
        takes_params: true,
        takes_context: true,
    },
    Hook {
        name: ON_LEAVE,
        is_async: true,
        takes_params: true,
        takes_context: true,
    },
];

/// The hook called `name`, if there is one.
pub(crate) fn named(name: &str) -> Option<&'static Hook> {
    HOOKS.iter().find(|hook| hook.name == name)
}

/// Near misses of a hook's name, written without `_` and in lower case, with the hook
/// they mean. A misspelt `is_authorised` would otherwise be an ordinary event method
/// that any subscriber may call, and the channel would admit everyone. (A bare
/// `authorise` stays a legitimate event name: "authorise this payment".)
const MISSPELLINGS: &[(&str, &str)] = &[
    ("isauthorized", IS_AUTHORISED),
    ("isauthorised", IS_AUTHORISED),
    ("isauthorize", IS_AUTHORISED),
    ("isauthorise", IS_AUTHORISED),
    ("middleware", MIDDLEWARES),
    ("middlewares", MIDDLEWARES),
    ("onjoin", ON_JOIN),
    ("onjoined", ON_JOIN),
    ("onsubscribe", ON_JOIN),
    ("onleave", ON_LEAVE),
    ("onleft", ON_LEAVE),
    ("onunsubscribe", ON_LEAVE),
];

/// The hook that `name` almost spells, when it is not that hook's exact name.
pub(crate) fn misspelt(name: &str) -> Option<&'static str> {
    let folded: String = name
        .chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    MISSPELLINGS
        .iter()
        .find(|(near, hook)| *near == folded && *hook != name)
        .map(|(_, hook)| *hook)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_name_the_hook_and_exact_names_do_not() {
        for near in [
            "is_authorized",
            "isAuthorised",
            "isAuthorized",
            "is_authorize",
            "Is_Authorised",
        ] {
            assert_eq!(misspelt(near), Some(IS_AUTHORISED), "{near}");
        }
        assert_eq!(misspelt("middleware"), Some(MIDDLEWARES));
        assert_eq!(misspelt("onJoin"), Some(ON_JOIN));
        assert_eq!(misspelt("on_left"), Some(ON_LEAVE));
        assert_eq!(misspelt(ON_JOIN), None);
        assert_eq!(misspelt("join"), None, "an event may be called that");
        assert_eq!(misspelt(IS_AUTHORISED), None);
        assert_eq!(misspelt(MIDDLEWARES), None);
        assert_eq!(misspelt("message"), None);
        assert_eq!(misspelt("authorise"), None, "an event may be called that");
    }
}
