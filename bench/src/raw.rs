//! The baseline: a broadcast server on tokio-tungstenite with no framework.
//!
//! Every text frame a connection sends is sent to every connection, the sender
//! included. The frame's bytes are shared: one `Utf8Bytes` per message, cloned (a
//! reference count) into each connection's bounded queue, drained by a writer task
//! that flushes once per batch. A frame that finds a connection's queue full is dropped
//! and counted (the load generator then reports it lost), where the framework would
//! close that slow consumer.
//!
//! Two prefixes route instead of broadcasting, so S4 has a baseline too:
//! `S TOPIC` subscribes the connection to a topic (answered `ok`), and
//! `P TOPIC PAYLOAD` sends `PAYLOAD` to that topic's subscribers only (answered `+`).
//! Nothing else is parsed.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};

use crate::payload::{RAW_ACK, RAW_ROUTE, RAW_SUBSCRIBE, RAW_SUBSCRIBED};

/// Frames one connection may have queued; the same depth as the bench server's.
pub const QUEUE: usize = crate::server::OUTBOUND_QUEUE;
/// Frames written before one flush.
const WRITE_BATCH: usize = 64;
/// tungstenite's read chunk and write buffer (the defaults, 128 KiB each, cost memory
/// per connection that small frames never use).
const IO_BUFFER: usize = 4096;
/// Listen backlog (the OS default of 128 overflows under connection bursts).
const BACKLOG: u32 = 4096;

type Outbox = mpsc::Sender<Message>;
/// A topic's subscribers, by connection id.
type Members = Vec<(u64, Outbox)>;

#[derive(Debug, Default)]
struct Hub {
    next_id: AtomicU64,
    connections: RwLock<HashMap<u64, Outbox>>,
    topics: RwLock<HashMap<Box<str>, Members>>,
    /// Frames dropped because a queue was full.
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
    let hub = Arc::new(Hub::default());
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(connection(hub.clone(), stream));
    }
}

fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(IO_BUFFER)
        .write_buffer_size(IO_BUFFER)
}

async fn connection(hub: Arc<Hub>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(ws) =
        tokio_tungstenite::accept_async_with_config(stream, Some(websocket_config())).await
    else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    let id = hub.next_id.fetch_add(1, Ordering::Relaxed);
    write(&hub.connections).insert(id, tx.clone());

    let writer = tokio::spawn(async move {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
            for message in batch.drain(..) {
                if sink.feed(message).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });

    let mut topics: Vec<Box<str>> = Vec::new();
    while let Some(Ok(message)) = source.next().await {
        match message {
            Message::Text(text) => on_text(&hub, id, &tx, &mut topics, text),
            Message::Close(_) => break,
            _ => {} // tungstenite answers pings itself
        }
    }

    write(&hub.connections).remove(&id);
    let mut map = write(&hub.topics);
    for topic in topics {
        if let Some(members) = map.get_mut(&topic) {
            members.retain(|(member, _)| *member != id);
            if members.is_empty() {
                map.remove(&topic);
            }
        }
    }
    drop(map);
    drop(tx);
    writer.abort();
}

fn on_text(hub: &Hub, id: u64, own: &Outbox, topics: &mut Vec<Box<str>>, text: Utf8Bytes) {
    if let Some(topic) = text.strip_prefix(RAW_SUBSCRIBE) {
        let topic: Box<str> = topic.into();
        write(&hub.topics)
            .entry(topic.clone())
            .or_default()
            .push((id, own.clone()));
        topics.push(topic);
        let _ = own.try_send(Message::text(RAW_SUBSCRIBED));
    } else if let Some(rest) = text.strip_prefix(RAW_ROUTE) {
        let Some((topic, payload)) = rest.split_once(' ') else {
            return;
        };
        let start = text.len() - payload.len();
        let bytes = Bytes::from(text.clone()).slice(start..);
        let Ok(payload) = Utf8Bytes::try_from(bytes) else {
            return;
        };
        if let Some(members) = read(&hub.topics).get(topic) {
            deliver(hub, members.iter().map(|(_, outbox)| outbox), &payload);
        }
        let _ = own.try_send(Message::text(RAW_ACK));
    } else {
        let connections = read(&hub.connections);
        deliver(hub, connections.values(), &text);
    }
}

fn deliver<'a>(hub: &Hub, outboxes: impl Iterator<Item = &'a Outbox>, text: &Utf8Bytes) {
    for outbox in outboxes {
        if let Err(mpsc::error::TrySendError::Full(_)) =
            outbox.try_send(Message::Text(text.clone()))
        {
            hub.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
