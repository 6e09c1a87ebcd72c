use std::sync::Arc;

use actix::{Actor, ActorContext, AtomicResponse, Context, Handler, Message, WrapFuture};
use tokio::sync::oneshot;
use tracing::Instrument;

use crate::auth::Middleware;
use crate::listener::{Invocation, Reply, SocketError};
use crate::protocol::ErrorCode;
use crate::registry::ChannelRegistration;
use crate::registry::Erased;
use crate::stats::Metrics;

/// The listener instance of one concrete channel.
pub(crate) struct ChannelActor {
    name: Arc<str>,
    registration: &'static ChannelRegistration,
    listener: Erased,
    /// The global middleware, run again on subscribe.
    global: Arc<[Arc<dyn Middleware>]>,
    /// The listener's own middleware, run on subscribe and before each event.
    own: Arc<[Arc<dyn Middleware>]>,
    /// Counts live channel actors.
    metrics: Arc<Metrics>,
    /// How long one event may run (`limits.handler_timeout_secs`).
    handler_timeout: std::time::Duration,
}

impl ChannelActor {
    pub(crate) fn new(
        name: Arc<str>,
        registration: &'static ChannelRegistration,
        global: Arc<[Arc<dyn Middleware>]>,
        metrics: Arc<Metrics>,
        handler_timeout: std::time::Duration,
    ) -> Self {
        let listener = (registration.create)();
        let own = (registration.middlewares)(&listener).into();
        Self {
            name,
            registration,
            listener,
            global,
            own,
            metrics,
            handler_timeout,
        }
    }
}

/// The refusal of an authorisation that took longer than `limit`.
pub(crate) fn authorisation_timeout(limit: std::time::Duration) -> SocketError {
    SocketError::unauthorised(format!(
        "authorisation did not finish within {} s",
        limit.as_secs()
    ))
    .with_reason("timeout")
}

/// Runs each middleware's channel hook in order; the first refusal wins.
async fn pass(
    middleware: impl IntoIterator<Item = &Arc<dyn Middleware>>,
    connection: &crate::listener::Connection,
) -> Result<(), SocketError> {
    for m in middleware {
        m.channel(connection).await?;
    }
    Ok(())
}

impl ChannelActor {
    /// Starts the actor with a mailbox of `capacity` messages: senders use `try_send`,
    /// and a full mailbox refuses (`overloaded`) instead of growing.
    pub(crate) fn start_with_mailbox(self, capacity: usize) -> actix::Addr<Self> {
        Self::create(move |ctx| {
            ctx.set_mailbox_capacity(capacity);
            self
        })
    }
}

impl Actor for ChannelActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        self.metrics.channel_actor_started();
        tracing::debug!(channel = %self.name, listener = self.registration.name, "channel started");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.metrics.channel_actor_stopped();
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

/// Run `on_join` or `on_leave` for a connection; sent with `do_send`, past the mailbox
/// bound, since a join or leave has happened and must not be lost to a busy channel.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Lifecycle {
    pub(crate) hook: fn(Erased, Invocation) -> crate::listener::EventFuture,
    pub(crate) invocation: Invocation,
}

/// Stop once the messages already queued are handled.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct Retire;

// The handlers return AtomicResponse: the actor handles nothing else until the hook
// or event has finished, which is what keeps one channel's events in order.

impl Handler<Authorise> for ChannelActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, message: Authorise, _: &mut Self::Context) -> Self::Result {
        if message.reply.is_closed() {
            // The session stopped waiting (timeout) or is gone: nobody wants the verdict.
            return AtomicResponse::new(Box::pin(async {}.into_actor(self)));
        }
        let limit = self.handler_timeout;
        let connection = message.invocation.connection.clone();
        let hook = (self.registration.authorise)(self.listener.clone(), message.invocation);
        let (global, own) = (self.global.clone(), self.own.clone());
        AtomicResponse::new(Box::pin(
            async move {
                let verdict = async {
                    pass(global.iter().chain(own.iter()), &connection).await?;
                    hook.await
                };
                // A stuck hook holds this channel's other events: it is cut off too.
                let verdict = tokio::time::timeout(limit, verdict)
                    .await
                    .unwrap_or_else(|_| Err(authorisation_timeout(limit)));
                // The session may have gone meanwhile; nobody is left to tell.
                let _ = message.reply.send(verdict);
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
        let connection = invocation.connection.clone();
        let handler = (self.registration.dispatch)(self.listener.clone(), &event, invocation);
        let listener = self.registration.name;
        let own = self.own.clone();
        let span = tracing::info_span!(
            "dispatch",
            channel = %self.name,
            event = %event,
            connection = %connection.id,
        );
        let work = async move {
            match (pass(own.iter(), &connection).await, handler) {
                (Err(refusal), _) => Err(refusal),
                (Ok(()), Some(handler)) => handler.await,
                (Ok(()), None) => Err(SocketError::with_code(
                    ErrorCode::UnknownEvent,
                    format!("`{listener}` has no event `{event}`"),
                )),
            }
        };
        // The channel's next events wait for this one: a stuck handler is cut off.
        AtomicResponse::new(Box::pin(
            reply
                .after(self.handler_timeout, work)
                .instrument(span)
                .into_actor(self),
        ))
    }
}

impl Handler<Lifecycle> for ChannelActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, message: Lifecycle, _: &mut Self::Context) -> Self::Result {
        let Lifecycle { hook, invocation } = message;
        let span = tracing::info_span!(
            "lifecycle",
            channel = %self.name,
            hook = %invocation.event,
            connection = %invocation.connection.id,
        );
        let hook = hook(self.listener.clone(), invocation);
        let limit = self.handler_timeout;
        // Nobody waits for a hook's outcome: a failure is logged. Like an event, it holds
        // the channel's next events, so a stuck one is cut off.
        let work = async move {
            match tokio::time::timeout(limit, hook).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "a lifecycle hook failed"),
                Err(_) => tracing::warn!(seconds = limit.as_secs(), "a lifecycle hook timed out"),
            }
        };
        AtomicResponse::new(Box::pin(work.instrument(span).into_actor(self)))
    }
}

impl Handler<Retire> for ChannelActor {
    type Result = ();

    fn handle(&mut self, _: Retire, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
