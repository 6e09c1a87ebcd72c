//! The `{{Name}}` channel listener: `{{pattern}}`.
//!
//! Written by `switchboard new channel`; it is yours to change.

use serde::{Deserialize, Serialize};
use switchboard::prelude::*;

/// `{{pattern}}`: its subscribers hear each other's `message`s.
///
/// One instance runs per active channel (`{{sample}}`, …), as an actor: its events are
/// handled one at a time, in order, and its fields may keep per-channel state.
#[derive(ChannelListener, Default, Debug)]
#[channel("{{pattern}}")]
pub struct {{Name}};

/// What a client sends with `message`, and what every subscriber receives. A payload
/// that does not fit is refused with `bad_payload`, naming the field.
#[derive(Debug, Deserialize, Serialize)]
pub struct {{Name}}Message {
    /// The text.
    pub text: String,
}

#[channel_events]
impl {{Name}} {
    /// Hook: who may join a `{{pattern}}` channel. It runs on every subscribe, after
    /// the middleware (`jwt`, …), and the subscription is refused unless it returns
    /// `Ok(())`.
    async fn is_authorised(&self, conn: &Connection) -> Result<(), SocketError> {
        // As generated, everyone the middleware let in may join: check here that this
        // connection may see this channel.{{authorise_hint}}
        // Ask for `&YourUser` (the user your resolver returns) or `State<T>` (your
        // app's state) as parameters of this hook, and refuse with a reason the client
        // is told:
        //
        //     return Err(SocketError::unauthorised("not yours"));
        let _ = conn;
        Ok(())
    }

    /// Event `message`: every subscriber of this channel receives it, the sender too.
    pub async fn message(
        &self,
        ctx: EventContext,
        packet: Packet<{{Name}}Message>,
    ) -> Result<(), SocketError> {
        ctx.broadcast("message", &packet.data)?;
        Ok(())
    }
}
