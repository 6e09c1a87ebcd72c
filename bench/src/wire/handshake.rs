//! The HTTP/1.1 upgrade that opens a WebSocket, both sides, by hand.
//!
//! Written here rather than borrowed from a library so that the connection is a bare
//! `TcpStream` afterwards: no library buffer holds bytes read past the handshake, and
//! the frame reader owns the socket from the first frame. The keys come from
//! tungstenite's handshake helpers (random key, `Sec-WebSocket-Accept` derivation).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Longest request or response head accepted (a JWT in the query fits easily).
pub const MAX_HEAD: usize = 16 * 1024;

/// Reads from `reader` into `buf` until it holds a complete head (through the blank
/// line); returns the head's length. Bytes after it stay in `buf`.
pub async fn read_head<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> io::Result<usize> {
    let mut searched = 0;
    loop {
        if let Some(at) = find(&buf[searched..], b"\r\n\r\n") {
            return Ok(searched + at + 4);
        }
        searched = buf.len().saturating_sub(3);
        if buf.len() >= MAX_HEAD {
            return Err(invalid("HTTP head too long"));
        }
        buf.reserve(1024);
        if reader.read_buf(buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// A client's upgrade request for `path` (with its query) on `host`.
pub fn client_request(host: &str, path: &str, key: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// Checks a server's answer to [`client_request`] with `key`: `101` and the right accept.
pub fn check_response(head: &[u8], key: &str) -> io::Result<()> {
    let status = head.split(|&b| b == b'\n').next().unwrap_or_default();
    if !status.starts_with(b"HTTP/1.1 101") {
        let status = String::from_utf8_lossy(status);
        return Err(invalid(&format!("upgrade refused: {}", status.trim_end())));
    }
    match header(head, "sec-websocket-accept") {
        Some(accept) if accept == derive_accept_key(key.as_bytes()).as_bytes() => Ok(()),
        _ => Err(invalid("wrong Sec-WebSocket-Accept")),
    }
}

/// A server's `101` answer to a request head, or why the request is not an upgrade.
pub fn server_response(request: &[u8]) -> io::Result<String> {
    let key = header(request, "sec-websocket-key").ok_or_else(|| invalid("no WebSocket key"))?;
    Ok(format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key)
    ))
}

/// The value of header `name` (lower case) in `head`, trimmed.
fn header<'a>(head: &'a [u8], name: &str) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        let (field, value) = line.split_at(colon);
        field
            .eq_ignore_ascii_case(name.as_bytes())
            .then(|| value[1..].trim_ascii())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let request = client_request("127.0.0.1:1", "/ws?token=x", key);
        let response = server_response(request.as_bytes()).expect("an upgrade");
        assert!(
            response.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{response}"
        );
        check_response(response.as_bytes(), key).expect("accepted");
        assert!(check_response(b"HTTP/1.1 401 Unauthorized\r\n\r\n", key).is_err());
        assert!(server_response(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_err());
    }

    #[tokio::test]
    async fn heads_end_at_the_blank_line() {
        let mut stream: &[u8] = b"HTTP/1.1 101 OK\r\nA: b\r\n\r\n\x81\x00";
        let mut buf = Vec::new();
        let len = read_head(&mut stream, &mut buf).await.expect("a head");
        assert_eq!(&buf[len..], b"\x81\x00");
    }
}
