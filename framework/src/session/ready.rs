//! The first packet, `ready`: sent once the connection can be sent to from every node
//! and, when sends to users are kept (`[history.users]`), with where the user's stream
//! stands and what the client missed after the handshake's `since`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use serde_json::json;

use super::subscribe::describe_position;
use super::{SYNC_TIMEOUT, Session, refresh};
use crate::delivery::USER_STREAM_GATE;
use crate::node::Node;
use crate::protocol::{self, events};
use crate::stream::{Position, Recovery, user_stream};
use crate::transport::Topic;

/// Whether a connection (with a user or not) has a user stream: kept sends are held
/// back from its registration until `ready`.
pub(super) fn keeps_user_stream(node: &Node, has_user: bool) -> bool {
    has_user && node.sends.streams.user.is_some()
}

/// A read of the user's stream: `None` when there is none, or the broker cannot be read.
type UserStreamRead = Pin<Box<dyn Future<Output = Option<Recovery>>>>;

impl Session {
    /// Registers the connection's user on the backplane, reads the user's stream, then
    /// sends `ready`; the client's packets wait until then.
    pub(super) fn announce(&mut self, ctx: &mut Context<Self>) {
        let synced = match &self.user {
            Some(user) => self.node.backplane().sync(Topic::User(user.id.clone())),
            None => Box::pin(async { true }),
        };
        // Registered before `ready` goes out, so the client may act, and be sent to from
        // any node, as soon as it sees it; `ready` goes out even when the backplane
        // cannot confirm (it restores every subscription from the index once it can).
        let announced = tokio::time::timeout(SYNC_TIMEOUT, synced)
            .into_actor(self)
            .then(|_, session, _| session.read_user_stream().into_actor(session))
            .map(|recovery, session, _| session.send_ready(recovery));
        ctx.wait(announced);
    }

    /// Whether sends to this connection's user are kept (and so held back until
    /// `ready`).
    fn keeps_user_stream(&self) -> bool {
        keeps_user_stream(&self.node, self.user.is_some())
    }

    /// Where the user's stream stands and what followed the handshake's `since`: from
    /// this node's history, or the broker's, read after the user's topic is subscribed
    /// so nothing positioned later can be missed.
    fn read_user_stream(&self) -> UserStreamRead {
        let (Some(user), Some(spec)) = (&self.user, self.node.sends.streams.user) else {
            return Box::pin(async { None });
        };
        let backplane = self.node.backplane();
        if backplane.spans_nodes() {
            let topic = Topic::User(user.id.clone());
            return backplane.read_stream(topic, spec, self.since.clone());
        }
        let history = &self.node.sends.streams.history;
        let read = history.read(&user_stream(&user.id), spec, self.since.as_ref());
        Box::pin(async move { Some(read) })
    }

    /// `ready`, then what the client missed, then the sends held back meanwhile (less
    /// those it was just sent).
    fn send_ready(&mut self, recovery: Option<Recovery>) {
        let user_id = self.user.as_ref().map(|u| u.id.clone());
        let mut ready = json!({ "connection_id": self.id, "user_id": user_id.as_deref() });
        if let Some(expires_at) = self.expires_at {
            ready["expires_at"] = json!(refresh::epoch_secs(expires_at));
        }
        let asked = self.since.take().is_some();
        if !self.keeps_user_stream() {
            return self.send(protocol::encode(events::READY, None, &ready));
        }
        let (position, missed) = match recovery {
            Some(recovery) => describe_position(&mut ready, recovery),
            None => {
                // The broker cannot be read: no position to give. What was held back
                // goes out as it is; a client that asked to recover is told it did not.
                if asked {
                    ready["recovered"] = json!(false);
                }
                let unknown = Position {
                    offset: 0,
                    epoch: Arc::from(""),
                };
                (unknown, Vec::new())
            }
        };
        self.send(protocol::encode(events::READY, None, &ready));
        for frame in missed {
            self.push(frame);
        }
        self.connection
            .release(&Arc::from(USER_STREAM_GATE), position);
    }
}
