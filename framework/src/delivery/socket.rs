//! A handle on a connection's TCP socket, to abort a peer that stopped reading.
//!
//! actix's HTTP dispatcher owns the socket and stops polling the response body while
//! its write buffer is full, so a client that keeps TCP open but never reads would
//! hold its connection forever. [`on_connect`] keeps a duplicate of each accepted
//! socket's descriptor in the connection's data; [`SocketHandle::abort`] resets the
//! connection through it (`SO_LINGER 0`, then shutdown), which fails the dispatcher's
//! pending write, so it drops the connection and our writer with it.

use std::any::Any;
use std::net::Shutdown;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;
use std::time::Duration;

use actix_web::dev::Extensions;

/// A duplicate of one connection's socket descriptor (closed when the last holder,
/// the connection's data or its queue, goes).
#[derive(Debug, Clone)]
pub(crate) struct SocketHandle(Rc<OwnedFd>);

impl SocketHandle {
    /// Resets the connection: unsent data is discarded and the peer gets an RST.
    pub(crate) fn abort(&self) {
        let socket = socket2::SockRef::from(&*self.0);
        // Errors mean the socket is already gone, which is what we want.
        let _ = socket.set_linger(Some(Duration::ZERO));
        let _ = socket.shutdown(Shutdown::Both);
    }
}

/// Keeps a handle on each accepted TCP socket so Switchboard can abort connections
/// that stop reading (see `limits.write_timeout_secs`).
///
/// [`Switchboard::start`](crate::Switchboard::start) installs it; an application that
/// builds its own `HttpServer` adds it there:
///
/// ```no_run
/// # use actix_web::{App, HttpServer};
/// # async fn run(switchboard: switchboard::Switchboard) -> std::io::Result<()> {
/// HttpServer::new(move || App::new().configure(switchboard.configure()))
///     .on_connect(switchboard::on_connect)
///     .bind("127.0.0.1:8080")?
///     .run()
///     .await
/// # }
/// ```
///
/// Without it, a connection that stops reading is still released on our side after
/// the write timeout (its subscriptions, queue and cap slot), but its TCP connection
/// stays open until the operating system gives up on it. It costs one extra file
/// descriptor per connection.
pub fn on_connect(connection: &dyn Any, data: &mut Extensions) {
    let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
        return; // TLS or Unix sockets: no abort handle, see above
    };
    match tcp.as_fd().try_clone_to_owned() {
        Ok(fd) => {
            data.insert(SocketHandle(Rc::new(fd)));
        }
        Err(e) => tracing::warn!(error = %e, "cannot keep a handle on an accepted socket"),
    }
}
