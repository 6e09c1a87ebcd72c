//! The Switchboard demo application: a chat with a global channel, private channels
//! per user, private messages, rooms, an echo listener, dev tokens and notifications,
//! and a web page at `/` that uses the browser client.
//!
//! Its listeners are registered by their macros alone: nothing lists them.

pub mod api;
pub mod demo_config;
pub mod listeners;
pub mod rooms;
pub mod user;
pub mod web;

use std::io;

use actix_web::web::Data;
use switchboard::config::{Secret, Settings};
use switchboard::{Running, StartError, Switchboard};

use crate::api::TokenIssuer;
use crate::demo_config::DemoConfig;
use crate::rooms::Rooms;

/// Why the demo could not start.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Switchboard refused its settings or listeners.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: io::Error,
    },
    /// No randomness for the throwaway secret.
    #[error("cannot generate a JWT secret: {0}")]
    Random(String),
}

/// Builds the demo server and starts it on `addr`.
pub fn start(mut settings: Settings, demo: &DemoConfig, addr: &str) -> Result<Running, DemoError> {
    let issuer = if demo.dev_tokens && settings.jwt.algorithm.is_hmac() {
        if settings.jwt.secret.is_empty() {
            settings.jwt.secret = Secret::new(throwaway_secret()?);
            tracing::warn!(
                "jwt.secret is empty: using a throwaway secret (tokens die with the process)"
            );
        }
        Some(TokenIssuer::new(
            settings.jwt.secret.expose(),
            demo.token_ttl_secs,
        ))
    } else {
        None
    };
    let switchboard = Switchboard::builder(settings)
        .resolve_users(user::Users)
        .build()?;
    let rooms = Data::new(Rooms::default()); // one store shared by every worker
    switchboard
        .start_with(addr, move |cfg| {
            api::configure(cfg, issuer.clone());
            web::configure(cfg, rooms.clone());
        })
        .map_err(|source| DemoError::Bind {
            addr: addr.to_owned(),
            source,
        })
}

fn throwaway_secret() -> Result<String, DemoError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| DemoError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
