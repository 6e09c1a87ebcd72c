//! The Switchboard demo application: a chat with a global channel, private channels
//! per user, private messages, rooms, an echo listener, dev tokens and notifications,
//! and a web page at `/` that uses the browser client.
//!
//! Its listeners are registered by their macros alone: nothing lists them.

/// The repository's README: its Rust snippets are compiled as this crate's doctests, so
/// the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct Readme;

pub mod api;
pub mod auth;
pub mod demo_config;
pub mod listeners;
pub mod room_store;
pub mod rooms;
pub mod user;
pub mod web;

use std::io;

use actix_web::web::Data;
use switchboard::auth::JwtMiddleware;
use switchboard::config::{ConfigError, HistoryChannel, Secret, Settings, Watch};
use switchboard::{Running, StartError, Switchboard};

use crate::api::TokenIssuer;
use crate::auth::Credentials;
use crate::demo_config::DemoConfig;
use crate::room_store::RoomStore;
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
    /// Dev tokens would sign tokens for anyone with a secret that is meant to be real.
    #[error(
        "Demo.toml: dev_tokens = true signs a token for any name, so it refuses to sign with a configured jwt.secret (SWITCHBOARD__JWT__SECRET): set dev_tokens = false (SWITCHBOARD_DEMO__DEV_TOKENS=false) to run with that secret, or unset it for a throwaway one"
    )]
    DevTokensWithRealSecret,
    /// Dev tokens are HMAC-signed; the settings verify another algorithm.
    #[error(
        "Demo.toml: dev_tokens = true signs with an HMAC secret, but jwt.algorithm is {0}: set dev_tokens = false"
    )]
    DevTokensNeedHmac(String),
    /// The HTTP routes' token verifier could not be built.
    #[error(transparent)]
    Jwt(#[from] ConfigError),
    /// The rooms' database could not be prepared.
    #[error("Demo.toml database_url (DATABASE_URL): {0}")]
    Database(String),
}

/// Builds the demo server and starts it on `addr`.
///
/// With `dev_tokens` on, the demo signs tokens for anyone who asks, so it signs only
/// with a development secret of its own (`dev_secret`, or a throwaway one) and refuses
/// to start when `jwt.secret` is configured: a real secret never signs a dev token.
pub fn start(mut settings: Settings, demo: &DemoConfig, addr: &str) -> Result<Running, DemoError> {
    let issuer = if demo.dev_tokens {
        if !settings.jwt.algorithm.is_hmac() {
            return Err(DemoError::DevTokensNeedHmac(format!(
                "{:?}",
                settings.jwt.algorithm
            )));
        }
        if !settings.jwt.secret.is_empty() {
            return Err(DemoError::DevTokensWithRealSecret);
        }
        let secret = if demo.dev_secret.is_empty() {
            tracing::warn!(
                "dev tokens on: signing with a throwaway secret (tokens die with the process)"
            );
            throwaway_secret()?
        } else {
            tracing::warn!("dev tokens on: signing with Demo.toml's dev_secret");
            demo.dev_secret.clone()
        };
        settings.jwt.secret = Secret::new(secret);
        Some(TokenIssuer::new(
            settings.jwt.secret.expose(),
            demo.token_ttl_secs,
        ))
    } else {
        None
    };
    let store = if demo.database_url.is_empty() {
        keep_room_history(&mut settings, demo);
        RoomStore::Memory(Rooms::default())
    } else {
        watch_rooms(&mut settings, &demo.database_url)?;
        RoomStore::Postgres(demo.database_url.clone())
    };
    keep_user_history(&mut settings, demo);
    let api_key = (settings.http_api.enabled && !settings.http_api.key.is_empty())
        .then(|| settings.http_api.key.expose().to_owned());
    let switchboard = Switchboard::builder(settings.clone())
        .resolve_users(user::Users)
        // Presence lists each member with their display name.
        .presence_info(|user: &user::User| Some(serde_json::json!({ "name": user.name })))
        .build()?;
    let credentials = Data::new(Credentials::new(
        JwtMiddleware::from_settings(&settings.jwt)?,
        api_key,
    ));
    let rooms = Data::new(store); // one store shared by every worker
    switchboard
        .start_with(addr, move |cfg| {
            cfg.app_data(credentials.clone());
            api::configure(cfg, issuer.clone());
            web::configure(cfg, rooms.clone());
        })
        .map_err(|source| DemoError::Bind {
            addr: addr.to_owned(),
            source,
        })
}

/// Rooms are streams (unless `Demo.toml` says `room_history = 0`, or `Websockets.toml`
/// configures the pattern itself): a page that reconnects gets the messages it missed.
fn keep_room_history(settings: &mut Settings, demo: &DemoConfig) {
    let pattern = "room.{id}"; // listeners::Room's
    let configured = settings
        .history
        .channels
        .iter()
        .any(|c| c.pattern == pattern);
    if demo.room_history > 0 && !configured {
        settings.history.channels.push(HistoryChannel::new(
            pattern,
            demo.room_history,
            demo.room_history_ttl_secs,
        ));
    }
}

/// Rooms in PostgreSQL: the table is created, and the PostgreSQL source watches it, so
/// every insert (from this server, another node or `psql`) signals `room.{room}`. Rooms
/// are then not streams: the source signals each node's subscribers directly, without
/// positions, and a page re-fetches after any reconnect.
fn watch_rooms(settings: &mut Settings, url: &str) -> Result<(), DemoError> {
    room_store::prepare(url).map_err(DemoError::Database)?;
    settings.postgres.url = Secret::new(url);
    settings.postgres.install_triggers = true;
    settings
        .watch
        .push(Watch::new(room_store::TABLE, "room.{room}", "message"));
    Ok(())
}

/// A user's notifications are kept (unless `Demo.toml` says `user_history = 0`, or
/// `Websockets.toml` turns user streams on itself): a device that was offline gets them
/// when it reconnects.
fn keep_user_history(settings: &mut Settings, demo: &DemoConfig) {
    let users = &mut settings.history.users;
    if demo.user_history > 0 && users.size == 0 {
        users.size = demo.user_history;
        users.ttl_secs = demo.user_history_ttl_secs;
    }
}

fn throwaway_secret() -> Result<String, DemoError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| DemoError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
