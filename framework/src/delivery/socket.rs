//! Ending the TCP connection of a peer that stopped reading.
//!
//! The worker's sweep frees everything such a connection held on our side. The TCP
//! connection itself: a taken-over socket is reset at once ([`reset`]); a socket that
//! actix's dispatcher owns (the endpoint as a route in an app's own `HttpServer`) is
//! out of reach, so the kernel resets it, through `TCP_USER_TIMEOUT`, which
//! [`configure_accepted`] sets on every accepted socket: data that stays
//! unacknowledged (a peer advertising a zero window included) for the write timeout
//! resets the connection, the dispatcher's write fails and it drops the connection.

use std::any::Any;
use std::net::Shutdown;
use std::time::Duration;

use actix_web::rt::net::TcpStream;

/// Gives up a taken-over socket: what the peer never read is discarded and the
/// connection is reset when the descriptor closes (no lingering in the kernel); its
/// writer, blocked on a full send buffer, wakes to a failed write and ends.
pub(crate) fn reset(socket: &TcpStream) {
    let socket = socket2::SockRef::from(socket);
    let _ = socket.set_linger(Some(Duration::ZERO));
    let _ = socket.shutdown(Shutdown::Both);
}

/// Sets the write timeout on an accepted TCP socket (others, such as TLS or Unix
/// sockets, are left as they are).
pub(crate) fn configure_accepted(connection: &dyn Any, write_timeout: Duration) {
    let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
        return;
    };
    let socket = socket2::SockRef::from(tcp);
    if let Err(e) = socket.set_tcp_user_timeout(Some(write_timeout)) {
        tracing::warn!(error = %e, "cannot set TCP_USER_TIMEOUT on an accepted socket");
    }
}
