//! Telling the application when this connection joins or leaves a channel (`on_join`,
//! `on_leave`, run in the channel's actor so they are ordered with its events) and when
//! it opens and ends (`on_connect`, `on_disconnect`, from the builder); and presence,
//! which counts the connection at the same points, whether or not the listener has
//! hooks (`presence.rs`).

use serde_json::Value;

use super::{Session, Subscription};
use crate::channel::Lifecycle;
use crate::listener::{ChannelRef, Connection, Disconnection, LeaveReason};
use crate::protocol::InboundPacket;

/// The event name hooks see in their `EventContext`.
const ON_JOIN: &str = "on_join";
const ON_LEAVE: &str = "on_leave";

impl Session {
    /// The subscription to `name` is confirmed to the client: its channel's `on_join`
    /// runs next in the channel's actor, before any event this connection sends there.
    pub(super) fn announce_join(&mut self, name: &str) {
        let Some(subscription) = self.subscriptions.get_mut(name) else {
            return;
        };
        subscription.announced = true;
        let registration = subscription.registration;
        let (actor, channel) = (subscription.actor.clone(), subscription.channel.clone());
        if let Some(mode) = registration.presence {
            self.count_in(&channel.name, mode);
        }
        let Some(hook) = registration.on_join else {
            return;
        };
        let invocation = self.hook_invocation(ON_JOIN, channel, None);
        actor.do_send(Lifecycle { hook, invocation });
    }

    /// Forgets the subscription to `name` (see [`Self::forget`]) and, when the client
    /// had been told it joined, runs the channel's `on_leave` with `reason`. Returns
    /// whether there was a subscription.
    pub(super) fn leave(&mut self, name: &str, reason: LeaveReason) -> bool {
        match self.forget(name) {
            Some(subscription) => {
                self.announce_leave(&subscription, reason);
                true
            }
            None => false,
        }
    }

    fn announce_leave(&self, subscription: &Subscription, reason: LeaveReason) {
        if !subscription.announced {
            return; // never confirmed: its `on_join` did not run either
        }
        if let Some(mode) = subscription.registration.presence {
            self.count_out(&subscription.channel.name, mode);
        }
        if let Some(hook) = subscription.registration.on_leave {
            let invocation =
                self.hook_invocation(ON_LEAVE, subscription.channel.clone(), Some(reason));
            subscription.actor.do_send(Lifecycle { hook, invocation });
        }
    }

    /// The connection is over: every channel it was in hears `on_leave` (queued before
    /// the channel may retire), then `on_disconnect` runs once `on_connect` is done.
    pub(super) fn announce_end(&mut self, code: Option<u16>) {
        let reason = LeaveReason::Disconnected { code };
        for subscription in self.subscriptions.values() {
            self.announce_leave(subscription, reason);
        }
        let Some(hook) = self.node.hooks.on_disconnect.clone() else {
            return;
        };
        let connection = self.hook_connection();
        let connected = self.connected.take();
        actix::spawn(async move {
            if let Some(connected) = connected {
                let _ = connected.await; // a failed on_connect still ends with on_disconnect
            }
            hook(connection, Disconnection { code }).await;
        });
    }

    /// Starts `on_connect`, beside the connection (it does not hold its packets).
    pub(super) fn announce_start(&mut self) {
        if let Some(hook) = self.node.hooks.on_connect.clone() {
            self.connected = Some(actix::spawn(hook(self.hook_connection())));
        }
    }

    fn hook_connection(&self) -> Connection {
        Connection {
            id: self.id.clone(),
            user: self.user.clone(),
            channel: None,
        }
    }

    fn hook_invocation(
        &self,
        hook: &str,
        channel: ChannelRef,
        leave: Option<LeaveReason>,
    ) -> crate::listener::Invocation {
        let packet = InboundPacket {
            event: hook.to_owned(),
            channel: Some(channel.name.to_string()),
            data: Value::Null,
            id: None,
        };
        let mut invocation = self.invocation(packet, Some(channel));
        invocation.leave = leave;
        invocation
    }
}
