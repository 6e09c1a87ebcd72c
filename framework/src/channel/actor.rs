use std::sync::Arc;

use actix::{Actor, ActorContext, AtomicResponse, Context, Handler, Message, WrapFuture};
use tokio::sync::oneshot;

use crate::listener::{Invocation, SocketError};
use crate::protocol::ErrorCode;
use crate::registry::ChannelRegistration;
use crate::registry::Erased;
use crate::session::Reply;

/// The listener instance of one concrete channel.
pub(crate) struct ChannelActor {
    name: Arc<str>,
    registration: &'static ChannelRegistration,
    listener: Erased,
}

impl ChannelActor {
    pub(crate) fn new(name: Arc<str>, registration: &'static ChannelRegistration) -> Self {
        Self {
            name,
            registration,
            listener: (registration.create)(),
        }
    }
}

impl Actor for ChannelActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        tracing::debug!(channel = %self.name, listener = self.registration.name, "channel started");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::debug!(channel = %self.name, "channel retired");
    }
}

/// Run `is_authorised` for a connection that asks to join.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Authorise {
    pub(crate) invocation: Invocation,
    pub(crate) reply: oneshot::Sender<Result<(), SocketError>>,
}

/// Run an event method; its outcome goes straight to the sender's outbox.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Dispatch {
    pub(crate) invocation: Invocation,
}

/// Stop once the messages already queued are handled.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Retire;

// Both handlers return AtomicResponse: the actor handles nothing else until the hook
// or event has finished, which is what keeps one channel's events in order.

impl Handler<Authorise> for ChannelActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, message: Authorise, _: &mut Self::Context) -> Self::Result {
        let hook = (self.registration.authorise)(self.listener.clone(), message.invocation);
        AtomicResponse::new(Box::pin(
            async move {
                // The session may have gone meanwhile; nobody is left to tell.
                let _ = message.reply.send(hook.await);
            }
            .into_actor(self),
        ))
    }
}

impl Handler<Dispatch> for ChannelActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, message: Dispatch, _: &mut Self::Context) -> Self::Result {
        let invocation = message.invocation;
        let reply = Reply::to(&invocation);
        let event = invocation.event.clone();
        let handler = (self.registration.dispatch)(self.listener.clone(), &event, invocation);
        let listener = self.registration.name;
        AtomicResponse::new(Box::pin(
            async move {
                let outcome = match handler {
                    Some(handler) => handler.await,
                    None => Err(SocketError::with_code(
                        ErrorCode::UnknownEvent,
                        format!("`{listener}` has no event `{event}`"),
                    )),
                };
                reply.send(outcome);
            }
            .into_actor(self),
        ))
    }
}

impl Handler<Retire> for ChannelActor {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
