//! Server-side control, from this node or another: re-authorise, subscribe,
//! unsubscribe and disconnect this connection on the application's word.

use actix::{Context, Handler};
use actix_http::ws::{CloseCode as WsCloseCode, CloseReason};
use serde_json::json;
use tracing::debug;

use super::Session;
use crate::listener::LeaveReason;
use crate::protocol::{self, events};
use crate::send::ForSession;
use crate::transport::{Closing, Control};

impl Handler<ForSession> for Session {
    type Result = ();

    fn handle(&mut self, ForSession(control): ForSession, ctx: &mut Self::Context) {
        match control {
            Control::Reauthorise { .. } => self.reauthorise(ctx),
            Control::Subscribe { channel, .. } => self.subscribe_by_server(channel, ctx),
            Control::Unsubscribe {
                channel, reason, ..
            } => self.unsubscribe_by_server(&channel, &reason),
            Control::Disconnect { closing, .. } => self.disconnect_by_server(&closing, ctx),
        }
    }
}

impl Session {
    /// Leaves `channel` and tells the client why with `unsubscribed`.
    fn unsubscribe_by_server(&mut self, channel: &str, reason: &str) {
        if !self.leave(channel, LeaveReason::Removed) {
            return; // not (or no longer) subscribed
        }
        debug!(connection = %self.id, channel, reason, "unsubscribed by the server");
        let data = json!({ "reason": reason });
        self.send(protocol::encode(events::UNSUBSCRIBED, Some(channel), &data));
    }

    /// Tells the client the server is closing it (and whether to come back), then
    /// closes with the given code and reason.
    fn disconnect_by_server(&mut self, closing: &Closing, ctx: &mut Context<Self>) {
        debug!(connection = %self.id, code = closing.code, reason = %closing.reason,
            "disconnected by the server");
        let data = json!({
            "code": closing.code,
            "reason": closing.reason,
            "reconnect": closing.reconnect,
        });
        self.send(protocol::encode(events::DISCONNECT, None, &data));
        let reason = CloseReason {
            code: WsCloseCode::from(closing.code),
            description: Some(closing.reason.clone()),
        };
        self.close(reason, ctx);
    }
}
