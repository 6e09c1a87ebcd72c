//! A test harness for applications (cargo feature `testing`): start the application's
//! [`Switchboard`](crate::Switchboard) in process on loopback, connect [`TestClient`]s to it over a real
//! WebSocket, and assert on what arrives, with a timeout instead of a hung test.
//!
//! ```no_run
//! use serde_json::json;
//! use switchboard::Switchboard;
//! use switchboard::testing::{self, TestClient};
//!
//! # async fn demo() -> Result<(), switchboard::testing::TestError> {
//! let server = testing::start(Switchboard::builder(testing::settings()))?;
//! let mut alice = TestClient::connect(&server).await?;
//! let mut bob = TestClient::connect(&server).await?;
//! alice.subscribe("global-chat").await?;
//! bob.subscribe("global-chat").await?;
//!
//! alice.emit("global-chat", "message", json!({"message": "hi"})).await?;
//! let packet = bob.expect_event("message").await?;
//! assert_eq!(packet["data"]["message"], "hi");
//! // Nothing else reached bob: a marker sent through the server arrives next.
//! bob.assert_nothing_before(&server, "marker").await?;
//! server.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! Packets a method skips while it waits for another (an event that arrived before the
//! `ack` [`TestClient::emit_with_ack`] waits for) are kept, in order, for the next
//! [`TestClient::expect_event`] or [`TestClient::next_packet`]: a test never loses a
//! packet it did not look at, and [`TestClient::assert_nothing_before`] reports them.
//!
//! Several nodes in one process share a [`Broker`], an in-process backplane that can cut
//! a node off or lose publications on their way to it.
//!
//! Layout: `client` ([`TestClient`]), `error` ([`TestError`]); the in-process
//! [`Broker`] is `transport/memory.rs`, and its fault switches are here.

mod client;
mod error;

pub use crate::transport::memory::Broker;
pub use client::{DEFAULT_TIMEOUT, TestClient};
pub use error::TestError;

use serde_json::{Value, json};

use crate::config::{Secret, Settings};
use crate::{Running, SwitchboardBuilder};

/// Settings for tests: one worker, no middleware, anonymous connections allowed, and
/// rate limits out of the way (tests send bursts). Change fields as a test needs.
///
/// ```
/// let mut settings = switchboard::testing::settings();
/// settings.limits.max_subscriptions = 2;
/// ```
pub fn settings() -> Settings {
    let mut s = Settings::default();
    s.server.workers = 1;
    s.middleware.clear();
    s.auth.allow_anonymous = true;
    s.limits.messages_per_second = 100_000;
    s.limits.burst = 100_000;
    s
}

/// [`settings`] with the `jwt` middleware on, HS256 tokens signed with `secret`, no
/// leeway, and anonymous connections refused. Make tokens with [`dev_token`].
///
/// ```
/// let settings = switchboard::testing::jwt_settings("a-test-secret-of-at-least-32-bytes!");
/// assert!(!settings.auth.allow_anonymous);
/// ```
pub fn jwt_settings(secret: &str) -> Settings {
    let mut s = settings();
    s.middleware = vec!["jwt".to_owned()];
    s.auth.allow_anonymous = false;
    s.jwt.secret = Secret::new(secret);
    s.jwt.leeway_secs = 0;
    s
}

/// Builds the server and starts it on `127.0.0.1:0` (a free port, so tests run in
/// parallel); [`Running::ws_url`] is where clients connect. Call it inside the actix
/// runtime of the test (`#[actix_web::test]`).
pub fn start(builder: SwitchboardBuilder) -> Result<Running, TestError> {
    Ok(builder.build()?.start("127.0.0.1:0")?)
}

/// An HS256 token for user `user_id`, valid for an hour, signed with `secret`: what the
/// `jwt` middleware of [`jwt_settings`] accepts. The user resolver sees `sub` = `user_id`.
///
/// ```
/// let token = switchboard::testing::dev_token("a-test-secret-of-at-least-32-bytes!", "alice")?;
/// assert_eq!(token.split('.').count(), 3);
/// # Ok::<(), switchboard::testing::TestError>(())
/// ```
pub fn dev_token(secret: &str, user_id: &str) -> Result<String, TestError> {
    dev_token_with_claims(secret, user_id, json!({}))
}

/// [`dev_token`] with more claims merged in (`{"name": "Alice"}`; an `exp` given here
/// replaces the default hour).
pub fn dev_token_with_claims(
    secret: &str,
    user_id: &str,
    extra: Value,
) -> Result<String, TestError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut claims = json!({ "sub": user_id, "exp": now + 3600 });
    if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Faults are named by the node's [`Running`] handle.
impl Broker {
    /// A broker with no nodes and no streams.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cuts `node` off: its link ends at once (its bridge sees the connection lost) and
    /// it cannot reconnect until [`heal`](Self::heal). Publications meanwhile do not
    /// reach it; its streams' subscribers get them from the history once it is back, or
    /// a `resync` when the history no longer holds them.
    pub fn partition(&self, node: &Running) {
        self.partition_node(node.server().node_id().as_str());
    }

    /// Lets `node` reconnect (its bridge retries with backoff: 0.1 s, doubling).
    pub fn heal(&self, node: &Running) {
        self.heal_node(node.server().node_id().as_str());
    }

    /// Loses the next `count` publications on their way to `node` (one message to one
    /// of its subscriptions counts once), as a lossy network would.
    pub fn drop_next(&self, node: &Running, count: usize) {
        self.drop_next_to(node.server().node_id().as_str(), count);
    }

    /// Makes the link towards `node` lossy: each publication on its way there is lost
    /// with probability `rate` (0.0 to 1.0; 0.0 makes it reliable again). The losses
    /// follow a pseudo-random sequence fixed by the broker's seed
    /// ([`with_seed`](Self::with_seed)), so a failing run replays the same losses.
    pub fn set_loss(&self, node: &Running, rate: f64) {
        self.set_loss_to(node.server().node_id().as_str(), rate);
    }

    /// A broker whose losses ([`set_loss`](Self::set_loss)) follow the sequence of
    /// `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self::seeded(seed)
    }

    /// Whether `node` has a link now (a node connects in the background after it
    /// starts; a subscribe before that may be refused with `backplane_unavailable`).
    pub fn is_connected(&self, node: &Running) -> bool {
        self.has_link(node.server().node_id().as_str())
    }
}
