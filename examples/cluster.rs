//! Two nodes on one Redis: `cargo run --example cluster` (Redis at `REDIS_URL`, default
//! `redis://127.0.0.1:6379`).
//!
//! Node A listens on `EXAMPLE_BIND` (default 127.0.0.1:8080), node B on the next port.
//! A client on either node that joins `news` hears what is said there on the other:
//! every send is delivered on its own node and published once through Redis.
use std::net::SocketAddr;

use switchboard::config::{BackplaneKind, Secret, Settings};
use switchboard::prelude::*;
use switchboard::{Running, Switchboard};

#[derive(ChannelListener, Default)]
#[channel("news")]
struct News;

#[channel_events]
impl News {
    /// Event `say`: every subscriber on every node hears it.
    pub async fn say(
        &self,
        ctx: EventContext,
        packet: Packet<serde_json::Value>,
    ) -> Result<(), SocketError> {
        ctx.broadcast("said", &packet.data)?;
        Ok(())
    }
}

fn node(redis: &str, bind: &str) -> Result<Running, Box<dyn std::error::Error>> {
    let mut settings = Settings::default();
    settings.middleware.clear(); // no tokens in this example; see the README for JWT
    settings.auth.allow_anonymous = true;
    settings.backplane.kind = BackplaneKind::Redis;
    settings.backplane.url = Secret::new(redis);
    Ok(Switchboard::new(settings)?.start(bind)?)
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let bind: SocketAddr = std::env::var("EXAMPLE_BIND")
        .unwrap_or_else(|_| "127.0.0.1:8080".into())
        .parse()?;
    let a = node(&redis, &bind.to_string())?;
    let b_bind = SocketAddr::new(
        bind.ip(),
        if bind.port() == 0 { 0 } else { bind.port() + 1 },
    );
    let b = node(&redis, &b_bind.to_string())?;
    println!("node A {} node B {}", a.ws_url(), b.ws_url());
    // Both drain on SIGTERM: their clients get 1001 and reconnect elsewhere.
    let (a_done, b_done) = tokio::join!(a.run_until_signal(), b.run_until_signal());
    a_done?;
    b_done?;
    Ok(())
}
