//! A client connection: a frame reader over one half of the socket, a frame writer
//! over the other.
//!
//! The reader keeps one small buffer per connection and hands out payloads as slices
//! of it: reading N frames costs one `read` for as many as fit, no allocation and no
//! copy. The halves are separate so that a publisher can write while its replies
//! are drained by another task.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;

use super::frame::{self, FrameError, MAX_PAYLOAD, Opcode};
use super::handshake;

/// Bytes a connection's reader holds: 20 or so of the benchmark's frames per `read`,
/// and 40 MiB over 10,000 connections (tungstenite's default would be 1.25 GiB).
pub const READ_BUFFER: usize = 8 * 1024;
/// The least room a `read` is given, unless a frame larger than the buffer is pending.
const MIN_READ: usize = 2048;

/// An open client WebSocket.
#[derive(Debug)]
pub struct Client {
    /// Frames from the server.
    pub reader: FrameReader<OwnedReadHalf>,
    /// Frames to the server.
    pub writer: FrameWriter<OwnedWriteHalf>,
}

/// Where to connect: `ws://HOST:PORT/PATH?QUERY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `HOST:PORT`.
    pub authority: String,
    /// `/PATH?QUERY` (at least `/`).
    pub path: String,
}

impl std::str::FromStr for Url {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let rest = url
            .strip_prefix("ws://")
            .ok_or_else(|| format!("`{url}`: only ws:// URLs are supported"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        Ok(Self {
            authority: authority.to_owned(),
            path,
        })
    }
}

impl Url {
    /// This URL with `key=value` added to its query.
    pub fn with_query(&self, key: &str, value: &str) -> Self {
        let separator = if self.path.contains('?') { '&' } else { '?' };
        Self {
            authority: self.authority.clone(),
            path: format!("{}{separator}{key}={value}", self.path),
        }
    }
}

/// Opens a WebSocket to `url` (TCP_NODELAY set, as a browser's socket would be).
pub async fn connect(url: &Url) -> io::Result<Client> {
    let stream = TcpStream::connect(&url.authority).await?;
    stream.set_nodelay(true)?;
    let (mut read, mut write) = stream.into_split();
    let key = generate_key();
    write
        .write_all(handshake::client_request(&url.authority, &url.path, &key).as_bytes())
        .await?;
    let mut head = Vec::new();
    let len = handshake::read_head(&mut read, &mut head).await?;
    handshake::check_response(&head[..len], &key)?;
    let mut reader = FrameReader::new(read);
    reader.preload(&head[len..]);
    Ok(Client {
        reader,
        writer: FrameWriter::new(write),
    })
}

/// Reads frames into one reusable buffer.
#[derive(Debug)]
pub struct FrameReader<R> {
    io: R,
    buf: Box<[u8]>,
    /// Unconsumed bytes are `buf[start..end]`.
    start: usize,
    end: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader of `io` with a [`READ_BUFFER`] buffer.
    pub fn new(io: R) -> Self {
        Self {
            io,
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    fn preload(&mut self, bytes: &[u8]) {
        self.make_room(bytes.len());
        self.buf[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// One `read` from the socket into the buffer; an error at end of stream.
    pub async fn fill(&mut self) -> io::Result<()> {
        // Room for a worthwhile read: move a partial frame to the front rather than read
        // a few bytes into the end of the buffer; grow only when a frame fills it.
        let held = self.end - self.start;
        self.make_room((self.buf.len() - held).clamp(1, MIN_READ));
        let read = self.io.read(&mut self.buf[self.end..]).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.end += read;
        Ok(())
    }

    /// Moves the unconsumed bytes to the front, and grows the buffer only when one
    /// frame is larger than it, so that `want` more bytes fit.
    fn make_room(&mut self, want: usize) {
        if self.end + want <= self.buf.len() {
            return;
        }
        let held = self.end - self.start;
        if held + want > self.buf.len() {
            let size = (held + want).next_power_of_two().min(MAX_PAYLOAD + 14);
            let mut bigger = vec![0; size.max(held + want)].into_boxed_slice();
            bigger[..held].copy_from_slice(&self.buf[self.start..self.end]);
            self.buf = bigger;
        } else {
            self.buf.copy_within(self.start..self.end, 0);
        }
        self.start = 0;
        self.end = held;
    }

    /// The next complete frame already read, if any: its opcode and payload.
    pub fn next_frame(&mut self) -> Result<Option<(Opcode, &[u8])>, FrameError> {
        let Some(frame) = frame::parse(&mut self.buf[self.start..self.end])? else {
            if self.start == self.end {
                (self.start, self.end) = (0, 0);
            }
            return Ok(None);
        };
        let base = self.start;
        self.start += frame.len;
        Ok(Some((
            frame.opcode,
            &self.buf[base + frame.payload.start..base + frame.payload.end],
        )))
    }

    /// The next frame, reading as needed; its payload copied out (connect phase only).
    pub async fn next_owned(&mut self) -> io::Result<(Opcode, Vec<u8>)> {
        loop {
            match self.next_frame() {
                Ok(Some((opcode, payload))) => return Ok((opcode, payload.to_vec())),
                Ok(None) => self.fill().await?,
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }
}

/// Writes masked frames (a client must mask) through one buffer, one `write` per flush.
#[derive(Debug)]
pub struct FrameWriter<W> {
    io: W,
    out: Vec<u8>,
    /// xorshift state for the masking keys.
    mask: u32,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// A writer to `io`.
    pub fn new(io: W) -> Self {
        static SEED: AtomicU32 = AtomicU32::new(0x9E37_79B9);
        Self {
            io,
            out: Vec::new(),
            mask: SEED.fetch_add(0x6D2B_79F5, Ordering::Relaxed) | 1,
        }
    }

    /// Appends a frame to the buffer (sent at the next [`Self::flush`]).
    pub fn push(&mut self, opcode: Opcode, payload: &[u8]) {
        // xorshift32: masking keys only need to vary, not to be secret, here.
        self.mask ^= self.mask << 13;
        self.mask ^= self.mask >> 17;
        self.mask ^= self.mask << 5;
        frame::encode(
            &mut self.out,
            opcode,
            payload,
            Some(self.mask.to_ne_bytes()),
        );
    }

    /// Bytes buffered and not yet written.
    pub fn buffered(&self) -> usize {
        self.out.len()
    }

    /// Writes everything buffered.
    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.io.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Sends one frame now.
    pub async fn send(&mut self, opcode: Opcode, payload: &[u8]) -> io::Result<()> {
        self.push(opcode, payload);
        self.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let url: Url = "ws://127.0.0.1:9/ws".parse().expect("valid");
        assert_eq!(url.authority, "127.0.0.1:9");
        assert_eq!(url.with_query("token", "t").path, "/ws?token=t");
        let bare: Url = "ws://h:1".parse().expect("valid");
        assert_eq!(bare.path, "/");
        let query: Url = "ws://h:1?a=b".parse().expect("valid");
        assert_eq!(query.with_query("c", "d").path, "/?a=b&c=d");
        assert!("http://h/".parse::<Url>().is_err());
    }

    #[tokio::test]
    async fn reader_walks_frames_split_across_reads() {
        let mut bytes = Vec::new();
        for i in 0..50u8 {
            frame::encode(&mut bytes, Opcode::Text, &[i; 300], None);
        }
        let (mut tx, rx) = tokio::io::duplex(777);
        let writer = tokio::spawn(async move { tx.write_all(&bytes).await });
        let mut reader = FrameReader::new(rx);
        for i in 0..50u8 {
            let (opcode, payload) = reader.next_owned().await.expect("a frame");
            assert_eq!(opcode, Opcode::Text);
            assert_eq!(payload, [i; 300]);
        }
        writer.await.expect("joins").expect("writes");
    }
}
