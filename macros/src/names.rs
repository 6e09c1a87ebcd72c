//! Compile-time checks of channel patterns and event names.

use switchboard_pattern::Pattern;
use syn::LitStr;

/// Events the protocol itself uses (`switchboard::protocol::events`); listeners
/// cannot handle them.
pub(crate) const RESERVED_EVENTS: [&str; 20] = [
    "ready",
    "ping",
    "pong",
    "subscribe-channel-request",
    "subscribe-channel-response",
    "unsubscribe-channel-request",
    "unsubscribe-channel-response",
    "ack",
    "error",
    "token-expiring",
    "refresh-token-request",
    "refresh-token-response",
    "unsubscribed",
    "resync",
    "subscribed",
    "disconnect",
    "presence-request",
    "presence-response",
    "presence-join",
    "presence-leave",
];

/// Why `name` cannot be an event name, if it cannot.
pub(crate) fn event_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("event name is empty".to_owned())
    } else if RESERVED_EVENTS.contains(&name) {
        Some(format!(
            "event name `{name}` is reserved by the Switchboard protocol (reserved: {})",
            RESERVED_EVENTS.join(", ")
        ))
    } else {
        None
    }
}

/// Checks `#[event("…")]`'s literal.
pub(crate) fn check_event_literal(lit: &LitStr) -> syn::Result<()> {
    match event_name_problem(&lit.value()) {
        Some(problem) => Err(syn::Error::new(lit.span(), problem)),
        None => Ok(()),
    }
}

/// Checks `#[channel("…")]`'s literal with the runtime's own pattern parser.
pub(crate) fn check_pattern(lit: &LitStr) -> syn::Result<()> {
    Pattern::parse(&lit.value())
        .map(drop)
        .map_err(|e| syn::Error::new(lit.span(), format!("invalid channel pattern: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    #[test]
    fn event_names() {
        assert_eq!(event_name_problem("message"), None);
        assert_eq!(event_name_problem("deleted-message"), None);
        assert_eq!(event_name_problem(""), Some("event name is empty".into()));
        for reserved in RESERVED_EVENTS {
            assert!(event_name_problem(reserved).is_some_and(|p| p.contains("reserved")));
        }
    }

    #[test]
    fn patterns() {
        let lit = |s: &str| LitStr::new(s, Span::call_site());
        assert!(check_pattern(&lit("user:chat.{id}")).is_ok());
        assert!(check_pattern(&lit("*")).is_ok());
        let err = check_pattern(&lit("user:**")).map_err(|e| e.to_string());
        assert!(err.is_err_and(|e| e.starts_with("invalid channel pattern: wildcard at byte 6")));
    }
}
