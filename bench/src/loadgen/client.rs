//! One load-generator connection: connect, authenticate, subscribe.

use std::io;
use std::time::Duration;

use crate::Target;
use crate::payload::{PING, PONG, RAW_SUBSCRIBE, RAW_SUBSCRIBED};
use crate::wire::Opcode;
use crate::wire::client::{self, Client, Url};

/// Longest wait for one step of connecting (handshake, `ready`, subscribe answer).
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// Frames read while waiting for one answer before giving up on it.
const MAX_FRAMES_PER_STEP: usize = 64;

/// Why a connection did not get ready.
#[derive(Debug)]
pub enum ConnectError {
    /// The handshake or the socket failed.
    Io(io::Error),
    /// A step took longer than [`STEP_TIMEOUT`].
    Timeout(&'static str),
    /// The server answered something else.
    Refused(String),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "websocket: {e}"),
            Self::Timeout(step) => write!(f, "timed out waiting for {step}"),
            Self::Refused(what) => write!(f, "refused: {what}"),
        }
    }
}

/// Opens a connection as `token`'s user (framework) or anonymously (raw) and, for the
/// framework, waits for `ready`.
pub async fn connect(
    target: Target,
    url: &Url,
    token: Option<&str>,
) -> Result<Client, ConnectError> {
    let url = match token {
        Some(token) => url.with_query("token", token),
        None => url.clone(),
    };
    let mut ws = tokio::time::timeout(STEP_TIMEOUT, client::connect(&url))
        .await
        .map_err(|_| ConnectError::Timeout("the handshake"))?
        .map_err(ConnectError::Io)?;
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
pub async fn subscribe(target: Target, ws: &mut Client, channel: &str) -> Result<(), ConnectError> {
    match target {
        Target::Framework => {
            let request = format!(
                r#"{{"event":"subscribe-channel-request","data":{{"channel":"{channel}"}}}}"#
            );
            send(ws, &request).await?;
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
            send(ws, &format!("{RAW_SUBSCRIBE}{channel}")).await?;
            let text = next_text(ws, "the subscribe answer").await?;
            if text == RAW_SUBSCRIBED {
                Ok(())
            } else {
                Err(ConnectError::Refused(text))
            }
        }
    }
}

async fn send(ws: &mut Client, text: &str) -> Result<(), ConnectError> {
    ws.writer
        .send(Opcode::Text, text.as_bytes())
        .await
        .map_err(ConnectError::Io)
}

/// The next text frame, answering heartbeats on the way.
async fn next_text(ws: &mut Client, step: &'static str) -> Result<String, ConnectError> {
    for _ in 0..MAX_FRAMES_PER_STEP {
        let (opcode, payload) = tokio::time::timeout(STEP_TIMEOUT, ws.reader.next_owned())
            .await
            .map_err(|_| ConnectError::Timeout(step))?
            .map_err(ConnectError::Io)?;
        match opcode {
            Opcode::Text if payload == PING.as_bytes() => send(ws, PONG).await?,
            Opcode::Text => return Ok(String::from_utf8_lossy(&payload).into_owned()),
            Opcode::Ping => ws
                .writer
                .send(Opcode::Pong, &payload)
                .await
                .map_err(ConnectError::Io)?,
            Opcode::Close => {
                return Err(ConnectError::Refused(format!(
                    "closed: {}",
                    String::from_utf8_lossy(payload.get(2..).unwrap_or_default())
                )));
            }
            Opcode::Binary | Opcode::Pong => {}
        }
    }
    Err(ConnectError::Refused(format!("no answer for {step}")))
}
