//! Reading one connection: its bytes, decoded into WebSocket messages with
//! actix-http's codec.
//!
//! The bytes come from the socket itself when Switchboard's own server took the
//! connection over after the upgrade ([`Source::Socket`]), or from the request's
//! payload when the endpoint is a route in an app's own `HttpServer`
//! ([`Source::Payload`]).

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker, ready};

use actix_codec::Decoder;
use actix_http::ws::{Codec, Frame};
use actix_http::ws::{Message, ProtocolError};
use actix_web::dev::Payload;
use actix_web::rt::net::TcpStream;
use actix_web::web::BytesMut;
use bytestring::ByteString;
use futures_util::Stream;

use crate::delivery::Room;

/// Bytes asked of the kernel per read of a taken-over socket. The buffer exists only
/// while a read is under way or a frame is incomplete: an idle connection holds none.
const READ_BYTES: usize = 4 * 1024;

/// Where a connection's bytes come from.
pub(crate) enum Source {
    /// The socket, taken over from actix's dispatcher after the upgrade, with what
    /// the client sent after its request head (already read by the dispatcher).
    Socket(Rc<TcpStream>, BytesMut),
    /// The request's payload, fed by actix's dispatcher (the endpoint is a route).
    Payload(Payload),
}

impl Source {
    /// The taken-over socket, if this is one.
    pub(crate) fn socket(&self) -> Option<Rc<TcpStream>> {
        match self {
            Self::Socket(socket, _) => Some(socket.clone()),
            Self::Payload(_) => None,
        }
    }
}

/// The frames a client sends, as messages, or why reading stopped ([`ReadError`]).
pub(crate) struct Inbound {
    source: Source,
    /// Nothing is read while the answers to earlier packets fill the outbound queue.
    room: Room,
    /// Nothing is read while the session finishes a packet it handles asynchronously.
    gate: Gate,
    buf: BytesMut,
    codec: Codec,
    /// The client's side of the connection has ended.
    ended: bool,
    /// A frame could not be decoded: nothing after it can be trusted, so nothing more
    /// is read (the session closes the connection).
    failed: bool,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("buffered", &self.buf.len())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Inbound {
    /// Reads `source`, refusing frames larger than `max_frame_bytes`.
    pub(crate) fn new(source: Source, max_frame_bytes: usize, room: Room, gate: Gate) -> Self {
        let (source, buf) = match source {
            Source::Socket(socket, early) => (Source::Socket(socket, BytesMut::new()), early),
            payload => (payload, BytesMut::new()),
        };
        Self {
            source,
            room,
            gate,
            buf,
            codec: Codec::new().max_size(max_frame_bytes),
            ended: false,
            failed: false,
        }
    }
}

/// Holds the client's next packets back while the session finishes one (a subscribe
/// waiting for the channel's authorisation), so they see its outcome, while the
/// session itself goes on serving heartbeats, expiry and sends.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gate(Rc<GateState>);

#[derive(Debug, Default)]
struct GateState {
    held: Cell<bool>,
    reader: RefCell<Option<Waker>>,
}

impl Gate {
    pub(crate) fn hold(&self) {
        self.0.held.set(true);
    }

    pub(crate) fn release(&self) {
        self.0.held.set(false);
        if let Some(reader) = self.0.reader.borrow_mut().take() {
            reader.wake();
        }
    }

    fn poll(&self, cx: &Context<'_>) -> Poll<()> {
        if self.0.held.get() {
            *self.0.reader.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// Why reading stopped; each maps to its own close code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The peer broke the WebSocket protocol (the codec says how): 1002, or 1009 for a
    /// frame over the size limit.
    #[error(transparent)]
    Protocol(ProtocolError),
    /// A text frame that is not UTF-8: 1007.
    #[error("text frame is not valid UTF-8")]
    InvalidUtf8,
    /// The connection is gone: nobody to tell.
    #[error("connection lost: {0}")]
    Gone(io::Error),
}

fn message(frame: Frame) -> Result<Message, ReadError> {
    Ok(match frame {
        Frame::Text(bytes) => ByteString::try_from(bytes)
            .map(Message::Text)
            .map_err(|_| ReadError::InvalidUtf8)?,
        Frame::Binary(bytes) => Message::Binary(bytes),
        Frame::Ping(bytes) => Message::Ping(bytes),
        Frame::Pong(bytes) => Message::Pong(bytes),
        Frame::Close(reason) => Message::Close(reason),
        Frame::Continuation(item) => Message::Continuation(item),
    })
}

impl Stream for Inbound {
    type Item = Result<Message, ReadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            // The session is closing the connection; its writer ends the actor.
            return Poll::Pending;
        }
        if this.room.poll(cx).is_pending() || this.gate.poll(cx).is_pending() {
            return Poll::Pending; // the client's next packets wait in TCP
        }
        loop {
            match this.codec.decode(&mut this.buf) {
                Ok(Some(frame)) => {
                    let decoded = message(frame);
                    this.failed = decoded.is_err();
                    return Poll::Ready(Some(decoded));
                }
                Ok(None) => {}
                Err(e) => {
                    this.failed = true;
                    return Poll::Ready(Some(Err(ReadError::Protocol(e))));
                }
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match this.fill(cx) {
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(Ok(false)) => this.ended = true,
                Poll::Ready(Err(e)) => {
                    this.failed = true;
                    return Poll::Ready(Some(Err(ReadError::Gone(e))));
                }
                Poll::Pending => {
                    if this.buf.is_empty() {
                        this.buf = BytesMut::new(); // an idle connection keeps no buffer
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl Inbound {
    /// Appends the next bytes the client sent to the buffer: `Ok(false)` once the
    /// client's side has ended.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        match &mut self.source {
            Source::Socket(socket, _) => loop {
                if let Err(e) = ready!(socket.poll_read_ready(cx)) {
                    return Poll::Ready(Err(e));
                }
                self.buf.reserve(READ_BYTES);
                match socket.try_read_buf(&mut self.buf) {
                    Ok(0) => return Poll::Ready(Ok(false)),
                    Ok(_) => return Poll::Ready(Ok(true)),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            },
            Source::Payload(payload) => match ready!(Pin::new(payload).poll_next(cx)) {
                Some(Ok(bytes)) => {
                    if self.buf.is_empty() {
                        self.buf = BytesMut::from(bytes); // no copy when nothing is buffered
                    } else {
                        self.buf.extend_from_slice(&bytes);
                    }
                    Poll::Ready(Ok(true))
                }
                Some(Err(e)) => Poll::Ready(Err(io::Error::other(e))),
                None => Poll::Ready(Ok(false)),
            },
        }
    }
}
