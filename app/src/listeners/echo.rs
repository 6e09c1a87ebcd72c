use serde_json::Value;
use switchboard::prelude::*;

switchboard::direct_events! {
    "pong-back" => Value,
}

/// A socket listener: `echo` answers the sender with `pong-back` and the same data.
#[derive(SocketListener, Default, Debug)]
#[event("echo")]
pub struct Echo;

#[socket_handler]
impl Echo {
    async fn handle(&self, ctx: EventContext, packet: Packet<Value>) -> Result<(), SocketError> {
        ctx.reply("pong-back", &packet.data)?;
        Ok(())
    }
}
