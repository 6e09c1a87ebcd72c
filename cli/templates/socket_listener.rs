//! The `{{Name}}` socket listener: event `{{event}}`, sent without a channel.
//!
//! Written by `switchboard new socket`; it is yours to change.

use serde::{Deserialize, Serialize};
use switchboard::prelude::*;

/// Event `{{event}}`: answers the sender with `{{event}}` and the same text.
#[derive(SocketListener, Default, Debug)]
#[event("{{event}}")]
pub struct {{Name}};

/// What a client sends with `{{event}}`, and what it gets back. A payload that does not
/// fit is refused with `bad_payload`, naming the field.
#[derive(Debug, Deserialize, Serialize)]
pub struct {{Name}}Message {
    /// The text.
    pub text: String,
}

#[socket_handler]
impl {{Name}} {
    /// Handles every `{{event}}` packet, in order per connection. Who may send it is the
    /// middleware's business (`jwt`, …); ask for `&YourUser` as a parameter to refuse
    /// anonymous connections, or `State<T>` for your app's state. A value returned in
    /// `Ok` is the ack's data when the client asked for one.
    async fn handle(
        &self,
        ctx: EventContext,
        packet: Packet<{{Name}}Message>,
    ) -> Result<(), SocketError> {
        ctx.reply("{{event}}", &packet.data)?;
        Ok(())
    }
}
