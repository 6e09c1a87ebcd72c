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
}

/// Runs on subscribe; everyone is authorised when it is absent.
pub(crate) const IS_AUTHORISED: &str = "is_authorised";

/// Lists the listener's own middleware: `fn middlewares(&self) -> Vec<Arc<dyn Middleware>>`.
pub(crate) const MIDDLEWARES: &str = "middlewares";

/// Every hook. A method with one of these names is a hook, whatever else it looks like.
const HOOKS: &[Hook] = &[
    Hook {
        name: IS_AUTHORISED,
        is_async: true,
        takes_params: true,
    },
    Hook {
        name: MIDDLEWARES,
        is_async: false,
        takes_params: false,
    },
];

/// The hook called `name`, if there is one.
pub(crate) fn named(name: &str) -> Option<&'static Hook> {
    HOOKS.iter().find(|hook| hook.name == name)
}
