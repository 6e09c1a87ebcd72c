//! One load-generator connection: connect, authenticate, subscribe.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::Target;
use crate::payload::{PING, PONG, RAW_SUBSCRIBE, RAW_SUBSCRIBED};

/// A client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest wait for one step of connecting (handshake, `ready`, subscribe answer).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// Frames read while waiting for one answer before giving up on it.
const MAX_FRAMES_PER_STEP: usize = 64;
/// Client read chunk and write buffer: the frames are small, and 10,000 connections at
/// tungstenite's default 128 KiB each would cost the load generator 2.5 GiB.
const IO_BUFFER: usize = 4096;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(IO_BUFFER)
        .write_buffer_size(IO_BUFFER)
}

/// Why a connection did not get ready.
#[derive(Debug)]
pub enum ConnectError {
    /// The handshake or the socket failed.
    Ws(tokio_tungstenite::tungstenite::Error),
    /// A step took longer than [`STEP_TIMEOUT`].
    Timeout(&'static str),
    /// The server answered something else.
    Refused(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ws(e) => write!(f, "websocket: {e}"),
            Self::Timeout(step) => write!(f, "timed out waiting for {step}"),
            Self::Refused(what) => write!(f, "refused: {what}"),
        }
    }
}

/// Opens a connection as `token`'s user (framework) or anonymously (raw) and, for the
/// framework, waits for `ready`.
pub async fn connect(target: Target, url: &str, token: Option<&str>) -> Result<Ws, ConnectError> {
    let url = match token {
        Some(token) => format!("{url}?token={token}"),
        None => url.to_owned(),
    };
    let handshake = tokio_tungstenite::connect_async_with_config(url, Some(config()), true);
    let (mut ws, _) = tokio::time::timeout(STEP_TIMEOUT, handshake)
        .await
        .map_err(|_| ConnectError::Timeout("the handshake"))?
        .map_err(ConnectError::Ws)?;
    if target == Target::Framework {
        let ready = next_text(&mut ws, "ready").await?;
        if !ready.starts_with(r#"{"event":"ready""#) {
            return Err(ConnectError::Refused(format!(
                "first packet was not ready: {ready}"
            )));
        }
    }
    Ok(ws)
}

/// Joins `channel`: a `subscribe-channel-request` answered successfully (framework), or
/// `S TOPIC` answered `ok` (raw).
pub async fn subscribe(target: Target, ws: &mut Ws, channel: &str) -> Result<(), ConnectError> {
    match target {
        Target::Framework => {
            let request = format!(
                r#"{{"event":"subscribe-channel-request","data":{{"channel":"{channel}"}}}}"#
            );
            ws.send(Message::text(request))
                .await
                .map_err(ConnectError::Ws)?;
            for _ in 0..MAX_FRAMES_PER_STEP {
                let text = next_text(ws, "the subscribe answer").await?;
                if text.starts_with(r#"{"event":"subscribe-channel-response""#) {
                    return if text.contains(r#""successful":true"#) {
                        Ok(())
                    } else {
                        Err(ConnectError::Refused(text))
                    };
                }
            }
            Err(ConnectError::Refused("no subscribe answer".to_owned()))
        }
        Target::Raw => {
            let request = format!("{RAW_SUBSCRIBE}{channel}");
            ws.send(Message::text(request))
                .await
                .map_err(ConnectError::Ws)?;
            let text = next_text(ws, "the subscribe answer").await?;
            if text == RAW_SUBSCRIBED {
                Ok(())
            } else {
                Err(ConnectError::Refused(text))
            }
        }
    }
}

/// The next text frame, answering heartbeats on the way.
async fn next_text(ws: &mut Ws, step: &'static str) -> Result<String, ConnectError> {
    for _ in 0..MAX_FRAMES_PER_STEP {
        let frame = tokio::time::timeout(STEP_TIMEOUT, ws.next())
            .await
            .map_err(|_| ConnectError::Timeout(step))?;
        match frame {
            Some(Ok(Message::Text(text))) if text.as_str() == PING => {
                ws.send(Message::text(PONG))
                    .await
                    .map_err(ConnectError::Ws)?;
            }
            Some(Ok(Message::Text(text))) => return Ok(text.as_str().to_owned()),
            Some(Ok(Message::Close(reason))) => {
                return Err(ConnectError::Refused(format!("closed: {reason:?}")));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(ConnectError::Ws(e)),
            None => return Err(ConnectError::Refused("connection ended".to_owned())),
        }
    }
    Err(ConnectError::Refused(format!("no answer for {step}")))
}
