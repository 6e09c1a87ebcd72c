//! A chat in under 40 lines: `cargo run --example minimal`, then connect to
//! ws://127.0.0.1:8080/ws and send
//! `{"event":"subscribe-channel-request","data":{"channel":"chat.lobby"}}` and
//! `{"event":"say","channel":"chat.lobby","data":{"text":"hi"}}`.
use switchboard::config::Settings;
use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("chat.{room}")]
struct Chat;

#[derive(serde::Deserialize)]
struct Say {
    text: String,
}

#[channel_events]
impl Chat {
    /// Event `say`: everyone in the room hears it, the sender too.
    pub async fn say(&self, ctx: EventContext, packet: Packet<Say>) -> Result<(), SocketError> {
        let from = ctx.connection().id().to_string();
        ctx.broadcast(
            "said",
            &serde_json::json!({ "text": packet.data.text, "from": from }),
        )?;
        Ok(())
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::default();
    settings.middleware.clear(); // no tokens: anyone may connect (see README for JWT)
    settings.auth.allow_anonymous = true;
    let bind = std::env::var("EXAMPLE_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let running = switchboard::Switchboard::new(settings)?.start(&bind)?;
    println!("chat on {}", running.ws_url());
    running.run_until_signal().await?;
    Ok(())
}
