//! What goes from a connection's queue to its socket.
//!
//! A [`Writer`] takes batches of queued frames (the bytes shared by every recipient,
//! copied once into one buffer) and either writes them to a socket it owns
//! ([`Writer::write_to`], on Switchboard's own server, which takes each connection
//! over from actix's dispatcher after the upgrade) or hands them to actix's dispatcher
//! as the WebSocket response's body (the endpoint as a route in an app's own
//! `HttpServer`; the dispatcher copies each batch into its write buffer). The writer
//! lives outside the session actor on purpose: a close frame is written and flushed
//! even after the actor has decided to stop.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};

use actix_web::rt::net::TcpStream;
use actix_web::web::Buf;

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::{Bytes, BytesMut};

use super::frame::WireFrame;
use super::queue::{Queue, Taken};

/// Bytes written to a taken-over socket at once: each write costs a system call and
/// wakes the client, so a batch holds what a round of broadcasts queued.
const SOCKET_BATCH_BYTES: usize = 64 * 1024;

/// Bytes handed to actix's dispatcher per poll: small enough that the writer's buffer
/// is reused while still in the core's cache (the dispatcher copies it out and drops
/// it before asking again), large enough to cost one poll per several frames.
const BODY_BATCH_BYTES: usize = 8 * 1024;

/// The receiving side of a connection's [`Queue`].
pub(crate) struct Writer {
    queue: Rc<Queue>,
    /// What one poll hands over; empty (no allocation) while the connection is idle.
    buf: BytesMut,
    /// Runs once the writer is dropped: everything is written, or the socket is gone.
    on_finish: Option<Box<dyn FnOnce()>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl Writer {
    pub(super) fn new(queue: Rc<Queue>) -> Self {
        Self {
            queue,
            buf: BytesMut::new(),
            on_finish: None,
        }
    }

    /// Runs `f` once the writer is dropped (written out, or the connection is gone).
    pub(crate) fn on_finish(mut self, f: impl FnOnce() + 'static) -> Self {
        self.on_finish = Some(Box::new(f));
        self
    }
}

impl Writer {
    /// Writes `preamble` (the upgrade's response), then everything queued, to `socket`
    /// until the close frame has gone, the connection is aborted or the socket fails;
    /// then shuts down the socket's sending side. One write per batch.
    pub(crate) fn write_to(self, socket: Rc<TcpStream>, preamble: BytesMut) -> SocketWrite {
        SocketWrite {
            writer: self,
            socket,
            out: preamble,
            last: false,
        }
    }
}

/// The task writing one taken-over connection (see [`Writer::write_to`]).
pub(crate) struct SocketWrite {
    writer: Writer,
    socket: Rc<TcpStream>,
    /// What is being written; empty (no allocation) while the connection is idle.
    out: BytesMut,
    /// `out` holds the close frame: once it is written, the writer is done.
    last: bool,
}

impl std::fmt::Debug for SocketWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketWrite")
            .field("writer", &self.writer)
            .field("unwritten", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl Future for SocketWrite {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if !this.out.is_empty() {
                if ready!(this.socket.poll_write_ready(cx)).is_err() {
                    return Poll::Ready(());
                }
                match this.socket.try_write(&this.out) {
                    Ok(n) => this.out.advance(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return Poll::Ready(()), // reset, or aborted by the sweep
                }
                continue;
            }
            if this.last {
                shut_down_sending(&this.socket);
                return Poll::Ready(());
            }
            match this
                .writer
                .queue
                .take(&mut this.out, SOCKET_BATCH_BYTES, cx.waker())
            {
                Taken::Frames => {}
                Taken::Close(reason) => {
                    this.out.extend_from_slice(WireFrame::close(reason).bytes());
                    this.last = true;
                }
                Taken::Nothing => {
                    this.out = BytesMut::new(); // an idle connection keeps no buffer
                    return Poll::Pending;
                }
                Taken::Finished => return Poll::Ready(()),
            }
        }
    }
}

/// The client sees the end of the stream after the close frame; it closes its side.
fn shut_down_sending(socket: &TcpStream) {
    let _ = socket2::SockRef::from(socket).shutdown(std::net::Shutdown::Write);
}

impl MessageBody for Writer {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        match this.queue.take(&mut this.buf, BODY_BATCH_BYTES, cx.waker()) {
            Taken::Frames => Poll::Ready(Some(Ok(this.buf.split().freeze()))),
            Taken::Close(reason) => Poll::Ready(Some(Ok(WireFrame::close(reason).bytes().clone()))),
            Taken::Nothing => Poll::Pending,
            Taken::Finished => Poll::Ready(None),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.writer_gone();
        if let Some(f) = self.on_finish.take() {
            f();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::queue::Bounds;
    use crate::ids::ConnectionId;
    use crate::protocol::{CloseCode, Frame};

    #[test]
    fn the_writer_yields_queued_frames_then_the_close_frame_then_ends() {
        let queue = Rc::new(Queue::new(1, ConnectionId::from("n-1"), None));
        let bounds = Bounds::new(4, 1 << 20);
        let mut writer = Writer::new(queue.clone());
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut writer).poll_next(&mut cx).is_pending());
        let frame = WireFrame::text(&Frame::from_static(r#"{"event":"x"}"#));
        queue.push(&frame.to_local(), bounds).expect("queued");
        queue.push(&frame.to_local(), bounds).expect("queued");
        queue.close(CloseCode::Normal.into());
        let Poll::Ready(Some(Ok(first))) = Pin::new(&mut writer).poll_next(&mut cx) else {
            panic!("the frame");
        };
        assert_eq!(
            first,
            [frame.bytes().as_ref(), frame.bytes()].concat(),
            "one batch"
        );
        let Poll::Ready(Some(Ok(close))) = Pin::new(&mut writer).poll_next(&mut cx) else {
            panic!("a close frame");
        };
        assert_eq!(close[0], 0x88, "FIN + close opcode");
        assert_eq!(&close[2..4], &1000u16.to_be_bytes());
        assert!(matches!(
            Pin::new(&mut writer).poll_next(&mut cx),
            Poll::Ready(None)
        ));
    }
}
