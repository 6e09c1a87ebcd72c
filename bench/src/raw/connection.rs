//! One raw-server connection: a single task that reads frames, and writes what the
//! broadcast ring (or its topic queue) holds for it in batches.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Bytes;

use super::{Hub, QUEUE, read, write};
use crate::payload::{RAW_ACK, RAW_ROUTE, RAW_SUBSCRIBE, RAW_SUBSCRIBED};
use crate::wire::{Opcode, frame, handshake};

/// Frames taken from the ring for one write at most.
const WRITE_BATCH: usize = 256;
/// Bytes gathered for one write at most.
const WRITE_BYTES: usize = 64 * 1024;
/// Read chunk while a connection has inbound bytes.
const READ_CHUNK: usize = 4096;

thread_local! {
    /// Where a batch is gathered before its one write: per thread, not per connection.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Serves one connection until it closes.
pub(super) async fn run(hub: Arc<Hub>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(inbound) = accept(&mut stream).await else {
        return;
    };
    let mut connection = Connection {
        id: hub.next_id.fetch_add(1, Ordering::Relaxed),
        all: hub.all.subscribe(),
        hub,
        stream,
        direct: None,
        topics: Vec::new(),
        inbound,
        backlog: Vec::new(),
    };
    let _ = connection.serve().await;
    connection.leave();
}

/// Answers the upgrade; returns any bytes read past the request.
async fn accept(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let len = handshake::read_head(stream, &mut head).await?;
    let response = handshake::server_response(&head[..len])?;
    stream.write_all(response.as_bytes()).await?;
    Ok(head.split_off(len))
}

/// A server frame, encoded once.
fn server_frame(opcode: Opcode, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + 10);
    frame::encode(&mut out, opcode, payload, None);
    Bytes::from(out)
}

struct Connection {
    hub: Arc<Hub>,
    id: u64,
    stream: TcpStream,
    all: broadcast::Receiver<Bytes>,
    /// This connection's topic queue, made when it first subscribes to a topic.
    direct: Option<(mpsc::Sender<Bytes>, mpsc::Receiver<Bytes>)>,
    topics: Vec<Box<str>>,
    /// Inbound bytes not yet a whole frame (empty, unallocated, when idle).
    inbound: Vec<u8>,
    /// Outbound bytes the socket has not taken yet (empty, unallocated, when idle).
    backlog: Vec<u8>,
}

enum Event {
    Readable,
    Writable,
    Ring(Result<Bytes, RecvError>),
    Direct(Option<Bytes>),
}

impl Connection {
    async fn serve(&mut self) -> io::Result<()> {
        loop {
            let event = if self.backlog.is_empty() {
                tokio::select! {
                    biased;
                    ready = self.stream.readable() => ready.map(|()| Event::Readable)?,
                    frame = self.all.recv() => Event::Ring(frame),
                    frame = next_direct(&mut self.direct) => Event::Direct(frame),
                }
            } else {
                // Take nothing more until the socket has taken what is waiting.
                tokio::select! {
                    ready = self.stream.readable() => ready.map(|()| Event::Readable)?,
                    ready = self.stream.writable() => ready.map(|()| Event::Writable)?,
                }
            };
            match event {
                Event::Readable => {
                    if !self.read_frames()? {
                        return Ok(());
                    }
                }
                Event::Writable => self.write_backlog()?,
                Event::Ring(Ok(first)) => self.write_batch(&first)?,
                Event::Ring(Err(RecvError::Lagged(missed))) => {
                    self.hub.dropped.fetch_add(missed, Ordering::Relaxed);
                }
                Event::Ring(Err(RecvError::Closed)) | Event::Direct(None) => return Ok(()),
                Event::Direct(Some(first)) => self.write_batch(&first)?,
            }
        }
    }

    /// Reads what the socket has and handles every whole frame; false once closed.
    fn read_frames(&mut self) -> io::Result<bool> {
        let mut inbound = std::mem::take(&mut self.inbound);
        let start = inbound.len();
        inbound.resize(start + READ_CHUNK, 0);
        let read = match self.stream.try_read(&mut inbound[start..]) {
            Ok(0) => return Ok(false),
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        inbound.truncate(start + read);
        let mut at = 0;
        let mut open = true;
        while open {
            let Some(frame) = frame::parse(&mut inbound[at..])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            else {
                break;
            };
            let payload = &inbound[at + frame.payload.start..at + frame.payload.end];
            open = self.on_frame(frame.opcode, payload)?;
            at += frame.len;
        }
        inbound.drain(..at);
        if !inbound.is_empty() {
            self.inbound = inbound; // a partial frame: keep it, and its buffer
        }
        Ok(open)
    }

    fn on_frame(&mut self, opcode: Opcode, payload: &[u8]) -> io::Result<bool> {
        match opcode {
            Opcode::Text => self.on_text(payload)?,
            Opcode::Ping => self.output(&server_frame(Opcode::Pong, payload))?,
            Opcode::Close => {
                self.output(&server_frame(
                    Opcode::Close,
                    payload.get(..2).unwrap_or_default(),
                ))?;
                return Ok(false);
            }
            Opcode::Binary | Opcode::Pong => {}
        }
        Ok(true)
    }

    fn on_text(&mut self, text: &[u8]) -> io::Result<()> {
        if let Some(topic) = text.strip_prefix(RAW_SUBSCRIBE.as_bytes()) {
            let topic: Box<str> = String::from_utf8_lossy(topic).into();
            let queue = self
                .direct
                .get_or_insert_with(|| mpsc::channel(QUEUE))
                .0
                .clone();
            write(&self.hub.topics)
                .entry(topic.clone())
                .or_default()
                .push((self.id, queue));
            self.topics.push(topic);
            self.output(&server_frame(Opcode::Text, RAW_SUBSCRIBED.as_bytes()))
        } else if let Some(rest) = text.strip_prefix(RAW_ROUTE.as_bytes()) {
            let Some(space) = rest.iter().position(|&b| b == b' ') else {
                return Ok(());
            };
            let topic = String::from_utf8_lossy(&rest[..space]);
            let frame = server_frame(Opcode::Text, &rest[space + 1..]);
            if let Some(members) = read(&self.hub.topics).get(&*topic) {
                for (_, queue) in members {
                    if queue.try_send(frame.clone()).is_err() {
                        self.hub.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            self.output(&server_frame(Opcode::Text, RAW_ACK.as_bytes()))
        } else {
            // No receivers is not an error for a broadcast.
            let _ = self.hub.all.send(server_frame(Opcode::Text, text));
            Ok(())
        }
    }

    /// Writes `first` and everything else waiting for this connection, in one write.
    fn write_batch(&mut self, first: &[u8]) -> io::Result<()> {
        SCRATCH.with(|scratch| {
            let mut out = scratch.borrow_mut();
            out.clear();
            out.extend_from_slice(first);
            for _ in 0..WRITE_BATCH {
                if out.len() >= WRITE_BYTES {
                    break;
                }
                match self.all.try_recv() {
                    Ok(frame) => out.extend_from_slice(&frame),
                    Err(TryRecvError::Lagged(missed)) => {
                        self.hub.dropped.fetch_add(missed, Ordering::Relaxed);
                    }
                    Err(_) => break,
                }
            }
            if let Some((_, queue)) = &mut self.direct {
                while out.len() < WRITE_BYTES {
                    let Ok(frame) = queue.try_recv() else { break };
                    out.extend_from_slice(&frame);
                }
            }
            self.output(&out)
        })
    }

    /// Writes `bytes` now as far as the socket takes them; keeps the rest for later.
    fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !self.backlog.is_empty() {
            self.backlog.extend_from_slice(bytes);
            return Ok(());
        }
        let written = write_now(&self.stream, bytes)?;
        self.backlog.extend_from_slice(&bytes[written..]);
        Ok(())
    }

    fn write_backlog(&mut self) -> io::Result<()> {
        let written = write_now(&self.stream, &self.backlog)?;
        self.backlog.drain(..written);
        if self.backlog.is_empty() {
            self.backlog = Vec::new(); // release the buffer while idle
        }
        Ok(())
    }

    /// Forgets this connection's topic memberships.
    fn leave(&mut self) {
        if self.topics.is_empty() {
            return;
        }
        let mut map = write(&self.hub.topics);
        for topic in self.topics.drain(..) {
            if let Some(members) = map.get_mut(&topic) {
                members.retain(|(member, _)| *member != self.id);
                if members.is_empty() {
                    map.remove(&topic);
                }
            }
        }
    }
}

/// The next frame of a topic queue; never, for a connection without one.
async fn next_direct(
    direct: &mut Option<(mpsc::Sender<Bytes>, mpsc::Receiver<Bytes>)>,
) -> Option<Bytes> {
    match direct {
        Some((_, queue)) => queue.recv().await,
        None => std::future::pending().await,
    }
}

/// Writes as much of `bytes` as the socket takes without waiting.
fn write_now(stream: &TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let mut written = 0;
    while written < bytes.len() {
        match stream.try_write(&bytes[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(written)
}
