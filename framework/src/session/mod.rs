//! The session actor: one per WebSocket connection.
//!
//! It reads frames (reassembling fragments, enforcing size limits), keeps the
//! heartbeat, decodes packets and dispatches them ([`dispatch`], [`subscribe`]).
//! Everything it sends goes through its connection's bounded queue in the delivery
//! layer, drained by the connection's writer (which writes the socket, or is the
//! WebSocket response's body when actix's dispatcher keeps the socket).

mod control;
mod dispatch;
mod frames;
mod inbound;
mod lifecycle;
mod presence;
mod rate;
mod ready;
mod refresh;
mod subscribe;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix::{
    Actor, ActorContext, Addr, AsyncContext, Context, Handler, Message as ActixMessage,
    SpawnHandle, StreamHandler,
};
use actix_http::ws::{CloseCode as WsCloseCode, CloseReason, Message, ProtocolError};
use tracing::debug;

use crate::auth::{Authenticated, RequestOrigin};
use crate::channel::ChannelActor;
use crate::delivery::{self, CapReached, Caps, Connected, WireFrame, Writer};
use crate::ids::ConnectionId;
use crate::listener::{ChannelRef, Reply, SessionUser};
use crate::node::Node;
use crate::protocol::{self, CloseCode, Frame};
use crate::registry::ChannelRegistration;
use crate::stream::Since;
use crate::transport::Topic;

use frames::{Assembled, Reassembly};
pub(crate) use inbound::Source;
use inbound::{Gate, Inbound, ReadError};
use rate::{Admission, RateLimiter};

/// Longest wait for the backplane to confirm a subscription before answering anyway
/// (the backplane restores it by itself once it can).
const SYNC_TIMEOUT: Duration = Duration::from_secs(2);

/// The JSON heartbeat, serialized once for every session.
const PING_PACKET: &str = r#"{"event":"ping","data":{}}"#;

thread_local! {
    /// The heartbeat as a WebSocket frame, encoded once per worker thread.
    static PING: WireFrame = WireFrame::text(&Frame::from_static(PING_PACKET));
}

/// Registers an upgraded connection reading `source` (if it fits under the connection
/// caps) and starts its session actor; returns the writer that writes to it. Runs on
/// the worker thread that will serve the connection.
pub(crate) fn start(
    node: Arc<Node>,
    source: Source,
    authenticated: Authenticated,
    since: Option<Since>,
) -> Result<Writer, CapReached> {
    let limits = &node.settings.limits;
    let caps = Caps {
        node: limits.max_connections,
        user: limits.max_connections_per_user,
    };
    let id = node.ids.next();
    let user_id = authenticated.user.as_ref().map(|u| u.id.clone());
    let keeps_user_stream = ready::keeps_user_stream(&node, user_id.is_some());
    let (connection, writer) = node.delivery().connect(id.clone(), user_id, caps)?;
    if keeps_user_stream {
        // Sends to the user wait until `ready` has told the client where its stream
        // stands (nothing reaches this thread's queues before this returns).
        connection.hold(&Arc::from(delivery::USER_STREAM_GATE));
    }
    if node.is_draining() {
        // The handshake passed the drain check just before the drain began, and the
        // drain's close of every connection may have run before this one was counted.
        connection.close(CloseCode::GoingAway.into());
    }
    node.metrics().connection_opened();
    let gate = Gate::default();
    let socket = source.socket();
    let stream = Inbound::new(
        source,
        limits.max_message_bytes,
        connection.room(),
        gate.clone(),
    );
    let fragments = Reassembly::new(limits.max_message_bytes);
    let rate = RateLimiter::new(limits);
    let span = tracing::info_span!(
        "connection",
        id = %id,
        user = authenticated.user.as_ref().map_or("", |u| &*u.id),
    );
    let session = Session {
        span,
        id,
        node,
        user: authenticated.user,
        expires_at: authenticated.expires_at,
        expiry_timers: Vec::new(),
        origin: authenticated.origin,
        connection,
        gate,
        last_heard: Instant::now(),
        fragments,
        rate,
        subscriptions: HashMap::new(),
        since: keeps_user_stream.then_some(since).flatten(),
        connected: None,
    };
    let addr = Session::create(move |ctx| {
        ctx.add_stream(stream);
        let addr = ctx.address();
        session.connection.on_abort(move || {
            if let Some(socket) = socket {
                delivery::reset(&socket);
            }
            addr.do_send(Ended);
        });
        session
    });
    Ok(writer.on_finish(move || addr.do_send(Ended)))
}

/// A channel this connection has joined: where its events go.
#[derive(Debug)]
struct Subscription {
    registration: &'static ChannelRegistration,
    channel: ChannelRef,
    /// The channel's actor, kept so an event finds it without a lookup.
    actor: Addr<ChannelActor>,
    /// The client was told it joined (and `on_join` ran): `on_leave` runs when it leaves.
    announced: bool,
}

pub(crate) struct Session {
    /// Everything logged while handling this connection carries its id and user.
    span: tracing::Span,
    id: ConnectionId,
    node: Arc<Node>,
    user: Option<SessionUser>,
    /// When the token expires; the connection is closed with 4001 then.
    expires_at: Option<SystemTime>,
    /// The `token-expiring` warning and the 4001 close, replaced on a refresh.
    expiry_timers: Vec<SpawnHandle>,
    /// What a token refresh shows the middleware again of the upgrade request.
    origin: RequestOrigin,
    /// This connection's queue, on this thread.
    connection: Connected,
    /// Holds the client's next packets while a subscribe waits for its verdict.
    gate: Gate,
    /// When the client last sent anything at all; silence past the timeout closes it.
    last_heard: Instant,
    fragments: Reassembly,
    rate: RateLimiter,
    /// The channels joined, by name. The index holds the same names for routing sends;
    /// this map holds what dispatching an event needs, without a lock or a regex.
    subscriptions: HashMap<Arc<str>, Subscription>,
    /// The handshake's `since` for the user's stream, until `ready` has answered it.
    since: Option<Since>,
    /// The `on_connect` hook, running; `on_disconnect` waits for it.
    connected: Option<tokio::task::JoinHandle<()>>,
}

impl Actor for Session {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.node.echo {
            return; // the conformance echo: no `ready`, no heartbeat packets
        }
        self.announce(ctx);
        self.announce_start();
        ctx.run_interval(self.node.settings.heartbeat.interval(), Self::heartbeat);
        self.arm_expiry(ctx);
        let recipient = ctx.address().recipient();
        self.node
            .sends
            .controls
            .register(self.id.clone(), recipient);
        debug!(connection = %self.id, user = ?self.user.as_ref().map(|u| &u.id), "connected");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.node.sends.controls.remove(&self.id);
        let ending = self.connection.ending();
        self.node.metrics().connection_ended(ending);
        if !self.node.echo {
            self.announce_end(ending);
        }
        let (emptied, gone_user) = self.connection.disconnect();
        let node = &self.node;
        for channel in emptied {
            node.channels
                .retire_if_idle(&channel, node.delivery().index());
            drop(node.backplane().sync(Topic::Channel(channel)));
        }
        if let Some(user) = gone_user {
            drop(node.backplane().sync(Topic::User(user)));
        }
        debug!(connection = %self.id, "disconnected");
    }
}

impl Session {
    /// Queues a frame for this client. A full queue already closes the connection
    /// (4008), so there is nothing more to do here on failure.
    fn push(&self, frame: Frame) {
        let _ = self.connection.push(&frame);
    }

    fn send(&self, frame: Result<Frame, serde_json::Error>) {
        match frame {
            Ok(frame) => self.push(frame),
            Err(e) => {
                tracing::error!(connection = %self.id, error = %e, "packet failed to serialize");
            }
        }
    }

    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        if self.last_heard.elapsed() >= self.node.settings.heartbeat.timeout() {
            debug!(connection = %self.id, "heartbeat timeout");
            self.close(CloseCode::HeartbeatTimeout.into(), ctx);
        } else {
            let _ = PING.with(|ping| self.connection.push_wire(ping));
        }
    }

    /// Sends a close frame (through the writer); the session stops once it is written,
    /// or once the delivery layer aborts a connection that does not take it within
    /// `limits.write_timeout_secs`.
    fn close(&mut self, reason: CloseReason, _: &mut Context<Self>) {
        self.connection.close(reason);
    }

    /// Applies the inbound rate limit; true when the packet may be handled.
    fn admit(&mut self, ctx: &mut Context<Self>) -> bool {
        self.node.metrics().packet_in();
        match self.rate.admit() {
            Admission::Accept => true,
            Admission::Refuse => {
                let limits = &self.node.settings.limits;
                let refusal = crate::listener::SocketError::with_code(
                    protocol::ErrorCode::RateLimited,
                    format!(
                        "more than {} packets per second (burst {}): packet dropped",
                        limits.messages_per_second, limits.burst
                    ),
                );
                Reply::new(self.connection.outbox(), None, None, None).send(Err(refusal));
                false
            }
            Admission::Flood => {
                debug!(connection = %self.id, "flooding: closing");
                self.close(CloseCode::Flood.into(), ctx);
                false
            }
        }
    }

    fn on_message(&mut self, message: Message, ctx: &mut Context<Self>) {
        match message {
            Message::Text(text) => {
                if self.admit(ctx) {
                    self.on_text(&text, ctx);
                }
            }
            Message::Binary(payload) => {
                if self.admit(ctx) {
                    self.on_binary(&payload);
                }
            }
            Message::Continuation(item) => match self.fragments.push(item) {
                Ok(Some(Assembled::Text(text))) => {
                    if self.admit(ctx) {
                        self.on_text(&text, ctx);
                    }
                }
                Ok(Some(Assembled::Binary(payload))) => {
                    if self.admit(ctx) {
                        self.on_binary(&payload);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    debug!(connection = %self.id, error = %e, "fragmented message refused");
                    self.close(e.close_code().into(), ctx);
                }
            },
            // WebSocket pings cost a pong each: they count like packets.
            Message::Ping(payload) => {
                if self.admit(ctx) {
                    let _ = self.connection.push_wire(&WireFrame::pong(&payload));
                }
            }
            Message::Pong(_) | Message::Nop => {}
            Message::Close(reason) => {
                // Echo the client's code, as RFC 6455 asks; the writer then ends the stream.
                // (A code no endpoint may send never gets here: the codec refuses it and
                // the connection closes with 1002, see `on_read_error`.)
                let code = reason.map_or(WsCloseCode::Normal, |r| r.code);
                self.close(code.into(), ctx);
            }
        }
    }

    fn on_read_error(&mut self, error: ReadError, ctx: &mut Context<Self>) {
        let code = match &error {
            ReadError::Protocol(ProtocolError::Overflow) => CloseCode::TooBig,
            // The codec reports reserved bits and malformed close payloads as I/O
            // `InvalidData`: protocol errors all the same, 1002 (Autobahn 3.x, 7.x).
            ReadError::Protocol(_) => CloseCode::ProtocolError,
            ReadError::InvalidUtf8 => CloseCode::InvalidPayload,
            ReadError::Gone(_) => {
                self.connection.abort();
                ctx.stop();
                return;
            }
        };
        debug!(connection = %self.id, error = %error, "websocket protocol error");
        self.close(code.into(), ctx);
    }
}

impl StreamHandler<Result<Message, ReadError>> for Session {
    fn handle(&mut self, item: Result<Message, ReadError>, ctx: &mut Self::Context) {
        let span = self.span.clone();
        let _in_connection = span.enter();
        if self.connection.is_closing() {
            return; // a close is under way: the rest of the stream no longer matters
        }
        self.last_heard = Instant::now();
        match item {
            Ok(message) => self.on_message(message, ctx),
            Err(error) => self.on_read_error(error, ctx),
        }
    }
}

/// The connection is over: its writer is gone (close frame written, or the socket
/// closed), or it was aborted for not reading.
#[derive(ActixMessage)]
#[rtype(result = "()")]
struct Ended;

impl Handler<Ended> for Session {
    type Result = ();

    fn handle(&mut self, _: Ended, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
