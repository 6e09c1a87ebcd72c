//! The baseline: a broadcast server on tokio with no framework, as lean as it can be.
//!
//! Every text frame a connection sends is sent to every connection, the sender
//! included. The outgoing frame (header and payload) is encoded once into one `Bytes`
//! and put once into a broadcast ring (`tokio::sync::broadcast`) that every connection
//! reads from: a send costs the same whatever the number of recipients, and each
//! recipient takes a reference count. A connection's task, woken by the ring, copies
//! everything waiting into one per-thread scratch buffer and writes it with one
//! `write` (one flush per batch); only what the socket does not take is kept, in a
//! buffer of its own. An idle connection holds no buffer at all: its inbound bytes are
//! read into a buffer allocated only while a partial frame is pending. A connection
//! that falls more than the ring's depth behind loses frames, counted, where the
//! framework would close that slow consumer (the load generator reports them lost).
//!
//! Two prefixes route instead of broadcasting, so S4 has a baseline too:
//! `S TOPIC` subscribes the connection to a topic (answered `ok`), and
//! `P TOPIC PAYLOAD` sends `PAYLOAD` to that topic's subscribers only (answered `+`),
//! through a bounded queue per subscribed connection. Nothing else is parsed.
//!
//! The handshake and frames are [`crate::wire`]'s: no WebSocket library in the path.

mod connection;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, PoisonError, RwLock};

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Bytes;

/// Frames one connection may fall behind the ring, or hold in its topic queue; the same
/// depth as the bench server's outbound queue.
pub const QUEUE: usize = crate::server::OUTBOUND_QUEUE;
/// Listen backlog (the OS default of 128 overflows under connection bursts).
const BACKLOG: u32 = 4096;

/// A topic's subscribers: connection id and topic queue.
type Members = Vec<(u64, mpsc::Sender<Bytes>)>;

/// What every connection shares.
#[derive(Debug)]
struct Hub {
    /// Every broadcast frame, encoded once.
    all: broadcast::Sender<Bytes>,
    next_id: AtomicU64,
    topics: RwLock<HashMap<Box<str>, Members>>,
    /// Frames dropped because a connection fell too far behind.
    dropped: AtomicU64,
}

/// Binds `addr` with a large backlog.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves connections from `listener` until the task is dropped or accepting fails.
pub async fn serve(listener: TcpListener) -> io::Result<()> {
    let hub = Arc::new(Hub {
        all: broadcast::channel(QUEUE).0,
        next_id: AtomicU64::new(0),
        topics: RwLock::new(HashMap::new()),
        dropped: AtomicU64::new(0),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection::run(hub.clone(), stream));
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
