//! The token's life on a connection: `token-expiring` before it ends, the close with
//! 4001 when it does, `refresh-token-request` to replace it in-band, and authorising
//! every subscription again after a refresh or a server-side `reauthorise`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tracing::debug;

use super::Session;
use super::subscribe::channel_stopped;
use crate::auth::{Authenticated, Rejection};
use crate::channel::{Authorise, authorisation_timeout};
use crate::listener::{LeaveReason, SocketError};
use crate::protocol::{self, CloseCode, ErrorCode, InboundPacket, events};

/// Seconds since the Unix epoch, as the protocol carries `expires_at`.
pub(super) fn epoch_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Session {
    /// (Re)schedules `token-expiring` and the 4001 close for the current expiry,
    /// cancelling those of a previous token.
    pub(super) fn arm_expiry(&mut self, ctx: &mut Context<Self>) {
        for timer in self.expiry_timers.drain(..) {
            ctx.cancel_future(timer);
        }
        let Some(expires_at) = self.expires_at else {
            return;
        };
        let left = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        // Halfway through a short token's life, so a refreshed 3-second token is not
        // warned about again at once.
        let window = Duration::from_secs(self.node.settings.auth.refresh_window_secs).min(left / 2);
        if !window.is_zero() {
            let data = json!({ "expires_at": epoch_secs(expires_at) });
            self.expiry_timers
                .push(ctx.run_later(left - window, move |session, _| {
                    session.send(protocol::encode(events::TOKEN_EXPIRING, None, &data));
                }));
        }
        self.expiry_timers.push(ctx.run_later(left, |session, ctx| {
            debug!(connection = %session.id, "token expired");
            session.close(CloseCode::TokenExpired.into(), ctx);
        }));
    }

    /// `refresh-token-request {token}`: the handshake's middleware chain judges the new
    /// token; it must name the same user. Accepted, it replaces the connection's user
    /// and expiry and every subscription is authorised again; refused, nothing changes.
    pub(super) fn refresh(&mut self, packet: InboundPacket, ctx: &mut Context<Self>) {
        let Some(token) = packet.data.get("token").and_then(Value::as_str) else {
            let refusal = Rejection::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "bad_payload",
                "`data.token` must be the new token",
            );
            return self.answer_refresh(packet.id, Err(refusal));
        };
        let (token, id) = (token.to_owned(), packet.id);
        let node = self.node.clone();
        let origin = self.origin.clone();
        let limit = node.settings.limits.handler_timeout();
        let checked = async move {
            let path = &node.settings.path;
            tokio::time::timeout(limit, node.auth.refresh(&token, path, &origin))
                .await
                .unwrap_or_else(|_| {
                    Err(Rejection::unauthorized(
                        "timeout",
                        "the token could not be checked in time",
                    ))
                })
        };
        // The client's next packets wait, so they see the new user.
        self.gate.hold();
        ctx.spawn(checked.into_actor(self).map(move |checked, session, ctx| {
            let adopted = checked.and_then(|authenticated| session.adopt(authenticated, ctx));
            let accepted = adopted.is_ok();
            session.answer_refresh(id, adopted);
            session.gate.release();
            if accepted {
                session.reauthorise(ctx);
            }
        }));
    }

    /// Takes the refreshed token's user and expiry, when it names the same user.
    fn adopt(
        &mut self,
        authenticated: Authenticated,
        ctx: &mut Context<Self>,
    ) -> Result<Option<SystemTime>, Rejection> {
        let same_user = match (&self.user, &authenticated.user) {
            (Some(current), Some(new)) => current.id == new.id,
            _ => false,
        };
        if !same_user {
            return Err(Rejection::forbidden(
                "user_mismatch",
                "the new token must name the connection's user",
            ));
        }
        self.user = authenticated.user;
        self.expires_at = authenticated.expires_at;
        self.arm_expiry(ctx);
        debug!(connection = %self.id, "token refreshed");
        Ok(self.expires_at)
    }

    /// `refresh-token-response`, and the ack when the request had an `id`.
    fn answer_refresh(&mut self, id: Option<u64>, outcome: Result<Option<SystemTime>, Rejection>) {
        let response = match &outcome {
            Ok(expires_at) => json!({
                "successful": true,
                "expires_at": expires_at.map(epoch_secs),
            }),
            Err(refusal) => json!({
                "successful": false,
                "reason": refusal.code(),
                "message": refusal.message(),
            }),
        };
        self.send(protocol::encode(events::REFRESH_RESPONSE, None, &response));
        if let Some(id) = id {
            let ack = match &outcome {
                Ok(_) => protocol::ack_ok(id, &response),
                Err(refusal) => protocol::ack_err(
                    id,
                    ErrorCode::Unauthorised,
                    refusal.message(),
                    Some(refusal.code()),
                ),
            };
            self.push(ack);
        }
    }

    /// Runs every subscription's authorisation again (global middleware, the channel's
    /// own, `is_authorised`) in its channel's actor, with the connection's current
    /// user; a channel that refuses is left and the client told with `unsubscribed`.
    /// A check that cannot finish in `limits.handler_timeout_secs` refuses too.
    pub(super) fn reauthorise(&mut self, ctx: &mut Context<Self>) {
        let limit = self.node.settings.limits.handler_timeout();
        let checks: Vec<_> = self
            .subscriptions
            .iter()
            .map(|(name, subscription)| {
                let packet = InboundPacket {
                    event: events::SUBSCRIBE_REQUEST.to_owned(),
                    channel: Some(name.to_string()),
                    data: json!({ "channel": &**name }),
                    id: None,
                };
                let (reply, verdict) = oneshot::channel();
                let asked = subscription.actor.send(Authorise {
                    invocation: self.invocation(packet, Some(subscription.channel.clone())),
                    reply,
                });
                (name.clone(), asked, verdict)
            })
            .collect();
        for (name, asked, verdict) in checks {
            let check = async move {
                let verdict = async {
                    asked.await.map_err(|_| channel_stopped())?;
                    verdict.await.map_err(|_| channel_stopped())?
                };
                tokio::time::timeout(limit, verdict)
                    .await
                    .unwrap_or_else(|_| Err(authorisation_timeout(limit)))
            };
            ctx.spawn(check.into_actor(self).map(move |verdict, session, _| {
                if let Err(refusal) = verdict {
                    session.evict(&name, &refusal);
                }
            }));
        }
    }

    /// Leaves `name` on the server's initiative and tells the client why.
    fn evict(&mut self, name: &Arc<str>, refusal: &SocketError) {
        if !self.leave(name, LeaveReason::Unauthorised) {
            return; // left meanwhile
        }
        debug!(connection = %self.id, channel = %name, "subscription no longer authorised");
        let data = json!({
            "reason": refusal.reason().unwrap_or(refusal.code().as_str()),
            "message": refusal.message(),
        });
        self.send(protocol::encode(events::UNSUBSCRIBED, Some(name), &data));
    }
}
