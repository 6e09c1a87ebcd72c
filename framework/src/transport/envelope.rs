//! The bytes one node publishes for the others: a few header lines, then the packet
//! exactly as it goes to clients, so no node serializes it again.
//!
//! ```text
//! sb1\n ORIGIN_NODE \n TARGET_CONNECTION \n EXCEPT_CONNECTION \n ONLY_ON_CHANNEL \n {packet json}
//! ```
//! Empty header lines mean "none"; `EXCEPT_CONNECTION` is `user=ID` when every
//! connection of a user is left out. The topic it arrives on and these headers together
//! give back the sender's [`Target`]. A header value with a newline would shift the
//! fields after it (an id from an HTTP API call could carry one), so such an envelope is
//! never written: [`Envelope::encode`] refuses it.
//!
//! Server-side control travels in its own format (see `super::control`).
//!
//! A send to one connection may ask for a [`Receipt`]: its first line is then
//! `sb1 ask=ID`, and the node holding the connection answers on the asker's node topic
//! with `sb1 receipt\n ANSWERING_NODE \n ID \n OUTCOME`.
//!
//! A publication on a stream has the first line `sb1 at=OFFSET EPOCH`, written by the
//! broker as it gives the publication its position (see `Link::publish_streams`); the
//! node hands over only the rest, which is also what the stream's history keeps, after
//! the offset: `OFFSET\n ORIGIN_NODE \n ...`.

use std::sync::Arc;

use actix_web::web::Bytes;
use bytestring::ByteString;

use super::Topic;
use crate::delivery::{Except, NotDelivered, Target};
use crate::ids::ConnectionId;
use crate::protocol::Frame;

const VERSION: &str = "sb1";
const ASK: &str = "sb1 ask=";
const AT: &str = "sb1 at=";
const RECEIPT: &str = "sb1 receipt";
/// Marks the except header as a user's (connection ids never hold `=`).
const USER_EXCEPT: &str = "user=";

/// The except header: a connection id, or `user=ID` for every connection of a user.
fn except_field(except: &Except) -> String {
    match except {
        Except::Connection(id) => id.as_str().to_owned(),
        Except::User(user) => format!("{USER_EXCEPT}{user}"),
    }
}

/// One cross-node message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) origin: String,
    pub(crate) target: Target,
    pub(crate) frame: Frame,
    /// Set when the sender waits for a [`Receipt`] (sends to one connection only).
    pub(crate) ask: Option<u64>,
    /// A stream publication's offset and epoch, as the broker gave them.
    pub(crate) at: Option<(u64, Arc<str>)>,
}

impl Envelope {
    /// The bytes to publish; `None` when a header value holds a newline.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        let version = match self.ask {
            Some(ask) => format!("{ASK}{ask}"),
            None => VERSION.to_owned(),
        };
        let rest = self.encode_rest()?;
        let mut out = Vec::with_capacity(version.len() + 1 + rest.len());
        out.extend_from_slice(version.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&rest);
        Some(out)
    }

    /// Everything after the first line (what a stream's broker script is handed).
    pub(crate) fn encode_rest(&self) -> Option<Vec<u8>> {
        let frame = self.frame.as_str();
        let (connection, except, via) = match &self.target {
            Target::Connection(id) => (Some(id.as_str()), None, None),
            Target::Channel { except, .. } => (None, except.as_ref().map(except_field), None),
            Target::User { via, .. } => (None, None, via.as_deref()),
            Target::Everyone => (None, None, None),
        };
        let fields = [
            self.origin.as_str(),
            connection.unwrap_or(""),
            except.as_deref().unwrap_or(""),
            via.unwrap_or(""),
        ];
        if fields.iter().any(|field| field.contains('\n')) {
            return None;
        }
        let mut out =
            Vec::with_capacity(frame.len() + fields.iter().map(|f| f.len() + 1).sum::<usize>());
        for field in fields {
            out.extend_from_slice(field.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(frame.as_bytes());
        Some(out)
    }

    /// Parses a message that arrived on `topic`; `None` for anything this version did
    /// not write.
    pub(crate) fn decode(topic: Topic, bytes: &[u8]) -> Option<Self> {
        let end = bytes.iter().position(|b| *b == b'\n')?;
        let version = std::str::from_utf8(&bytes[..end]).ok()?;
        let (ask, at) = if let Some(id) = version.strip_prefix(ASK) {
            (Some(id.parse().ok()?), None)
        } else if let Some(position) = version.strip_prefix(AT) {
            let (offset, epoch) = position.split_once(' ')?;
            (None, Some((offset.parse().ok()?, Arc::from(epoch))))
        } else if version == VERSION {
            (None, None)
        } else {
            return None;
        };
        Self::decode_rest(topic, &bytes[end + 1..], ask, at)
    }

    /// One entry of a stream's history: `OFFSET\n` and the rest of an envelope.
    pub(crate) fn decode_entry(topic: Topic, bytes: &[u8], epoch: &Arc<str>) -> Option<Self> {
        let end = bytes.iter().position(|b| *b == b'\n')?;
        let offset = std::str::from_utf8(&bytes[..end]).ok()?.parse().ok()?;
        Self::decode_rest(
            topic,
            &bytes[end + 1..],
            None,
            Some((offset, epoch.clone())),
        )
    }

    fn decode_rest(
        topic: Topic,
        bytes: &[u8],
        ask: Option<u64>,
        at: Option<(u64, Arc<str>)>,
    ) -> Option<Self> {
        let mut parts = bytes.splitn(5, |b| *b == b'\n');
        let mut field = || -> Option<&str> { std::str::from_utf8(parts.next()?).ok() };
        let origin = field()?.to_owned();
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let connection = optional(field()?);
        let except = optional(field()?);
        let via = optional(field()?);
        let frame = ByteString::try_from(Bytes::copy_from_slice(parts.next()?)).ok()?;
        let target = match topic {
            Topic::Channel(name) => Target::Channel {
                name,
                except: except.map(|e| match e.strip_prefix(USER_EXCEPT) {
                    Some(user) => Except::User(user.into()),
                    None => Except::Connection(ConnectionId::from(e.as_str())),
                }),
            },
            Topic::User(id) => Target::User {
                id,
                via: via.map(Into::into),
            },
            Topic::Node(_) => Target::Connection(ConnectionId::from(connection?.as_str())),
            Topic::All => Target::Everyone,
        };
        if ask.is_some() && !matches!(target, Target::Connection(_)) {
            return None; // only a send to one connection has one answer
        }
        Some(Self {
            origin,
            target,
            frame: Frame::from_text(frame),
            ask,
            at,
        })
    }
}

/// What became of a send that asked for a receipt, from the node that holds (or would
/// hold) the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Receipt {
    /// The answering node.
    pub(crate) origin: String,
    /// The asker's number for the send.
    pub(crate) ask: u64,
    pub(crate) outcome: Result<(), NotDelivered>,
}

impl Receipt {
    fn outcome_word(&self) -> &'static str {
        match self.outcome {
            Ok(()) => "delivered",
            Err(NotDelivered::Unknown) => "unknown",
            Err(NotDelivered::SlowConsumer) => "slow",
            Err(NotDelivered::Closed) => "closing",
        }
    }

    /// The bytes to publish on the asker's node topic.
    pub(crate) fn encode(&self) -> Vec<u8> {
        format!(
            "{RECEIPT}\n{}\n{}\n{}",
            self.origin,
            self.ask,
            self.outcome_word()
        )
        .into_bytes()
    }

    /// Parses a receipt; `None` for anything else (an envelope, foreign bytes).
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        // Checked on the bytes first: every send to a connection arrives here too.
        if !starts_with_line(bytes, RECEIPT) {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.split('\n');
        lines.next()?;
        let origin = lines.next()?.to_owned();
        let ask = lines.next()?.parse().ok()?;
        let outcome = match lines.next()? {
            "delivered" => Ok(()),
            "unknown" => Err(NotDelivered::Unknown),
            "slow" => Err(NotDelivered::SlowConsumer),
            "closing" => Err(NotDelivered::Closed),
            _ => return None,
        };
        lines.next().is_none().then_some(Self {
            origin,
            ask,
            outcome,
        })
    }
}

/// Whether `bytes` begins with the line `first` (followed by a newline).
fn starts_with_line(bytes: &[u8], first: &str) -> bool {
    bytes.starts_with(first.as_bytes()) && bytes.get(first.len()) == Some(&b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(target: Target) -> Envelope {
        let frame = crate::protocol::encode("m", Some("room.1"), &serde_json::json!({"t": "a\nb"}))
            .expect("encodes");
        Envelope {
            origin: "abc".into(),
            target,
            frame,
            ask: None,
            at: None,
        }
    }

    #[test]
    fn round_trip_keeps_the_target_and_the_packet_bytes() {
        for target in [
            Target::Channel {
                name: "room.1".into(),
                except: Some(Except::Connection(ConnectionId::from("abc-7"))),
            },
            Target::Channel {
                name: "room.1".into(),
                except: Some(Except::User("alice".into())),
            },
            Target::User {
                id: "bob".into(),
                via: Some("room.1".into()),
            },
            Target::Connection(ConnectionId::from("def-3")),
            Target::Everyone,
        ] {
            let sent = envelope(target.clone());
            let bytes = sent.encode().expect("encodes");
            let decoded = Envelope::decode(Topic::of(&target), &bytes).expect("decodes");
            assert_eq!(decoded, sent);
        }
    }

    #[test]
    fn a_header_with_a_newline_is_never_written() {
        let shifted = envelope(Target::Channel {
            name: "room.1".into(),
            except: Some(Except::Connection(ConnectionId::from("abc-7\n\nroom.2"))),
        });
        assert_eq!(shifted.encode(), None);
        let shifted = envelope(Target::Connection(ConnectionId::from("abc-7\nx")));
        assert_eq!(shifted.encode(), None);
    }

    #[test]
    fn foreign_bytes_are_refused() {
        let topic = || Topic::All;
        assert_eq!(Envelope::decode(topic(), b"hello"), None);
        assert_eq!(Envelope::decode(topic(), b"sb2\na\n\n\n\n{}"), None);
        assert_eq!(Envelope::decode(topic(), b"sb1\na\n\n\n"), None);
        assert_eq!(
            Envelope::decode(Topic::Node("a".into()), b"sb1\na\n\n\n\n{}"),
            None,
            "a node message names its connection"
        );
    }

    #[test]
    fn an_ask_and_its_receipt_round_trip() {
        let mut sent = envelope(Target::Connection(ConnectionId::from("def-3")));
        sent.ask = Some(42);
        let bytes = sent.encode().expect("encodes");
        assert!(bytes.starts_with(b"sb1 ask=42\n"));
        let decoded = Envelope::decode(Topic::Node("def".into()), &bytes).expect("decodes");
        assert_eq!(decoded, sent);
        assert_eq!(
            Receipt::decode(&bytes),
            None,
            "an envelope is not a receipt"
        );

        for outcome in [
            Ok(()),
            Err(NotDelivered::Unknown),
            Err(NotDelivered::SlowConsumer),
            Err(NotDelivered::Closed),
        ] {
            let receipt = Receipt {
                origin: "def".into(),
                ask: 42,
                outcome,
            };
            assert_eq!(Receipt::decode(&receipt.encode()), Some(receipt));
        }
        assert_eq!(Receipt::decode(b"sb1 receipt\ndef\n42\nmaybe"), None);
        assert_eq!(Receipt::decode(b"sb1 receipt\ndef\nx\ndelivered"), None);
        assert_eq!(
            Envelope::decode(Topic::All, b"sb1 ask=1\na\n\n\n\n{}"),
            None,
            "only a send to one connection asks"
        );
    }
}
