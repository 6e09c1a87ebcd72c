//! What the kernel does for a peer that stopped reading.
//!
//! actix's HTTP dispatcher owns each socket and stops polling the response body while
//! its write buffer is full, so nothing in user space sees a client that keeps TCP
//! open but never reads. The worker's sweep frees everything the connection held on
//! our side; the TCP connection itself is reset by the kernel, through
//! `TCP_USER_TIMEOUT`, which [`configure_accepted`] sets on every accepted socket: data
//! that stays unacknowledged (a peer advertising a zero window included) for the write
//! timeout resets the connection, the dispatcher's write fails and it drops the
//! connection.

use std::any::Any;
use std::time::Duration;

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
