//! The bytes one node publishes for the others: a few header lines, then the packet
//! exactly as it goes to clients, so no node serializes it again.
//!
//! ```text
//! sb1\n ORIGIN_NODE \n TARGET_CONNECTION \n EXCEPT_CONNECTION \n ONLY_ON_CHANNEL \n {packet json}
//! ```
//! Empty header lines mean "none". The topic it arrives on and these headers together
//! give back the sender's [`Target`]. A header value with a newline would shift the
//! fields after it (an id from an HTTP API call could carry one), so such an envelope is
//! never written: [`Envelope::encode`] refuses it.

use actix_web::web::Bytes;
use bytestring::ByteString;

use super::Topic;
use crate::delivery::Target;
use crate::ids::ConnectionId;
use crate::protocol::Frame;

const VERSION: &str = "sb1";

/// One cross-node message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) origin: String,
    pub(crate) target: Target,
    pub(crate) frame: Frame,
}

impl Envelope {
    /// The bytes to publish; `None` when a header value holds a newline.
    pub(crate) fn encode(&self) -> Option<Vec<u8>> {
        let frame = self.frame.as_str();
        let (connection, except, via) = match &self.target {
            Target::Connection(id) => (Some(id.as_str()), None, None),
            Target::Channel { except, .. } => (None, except.as_ref().map(|e| e.as_str()), None),
            Target::User { via, .. } => (None, None, via.as_deref()),
            Target::Everyone => (None, None, None),
        };
        let fields = [
            VERSION,
            &self.origin,
            connection.unwrap_or(""),
            except.unwrap_or(""),
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
        let mut parts = bytes.splitn(6, |b| *b == b'\n');
        let mut field = || -> Option<&str> { std::str::from_utf8(parts.next()?).ok() };
        if field()? != VERSION {
            return None;
        }
        let origin = field()?.to_owned();
        let optional = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let connection = optional(field()?);
        let except = optional(field()?);
        let via = optional(field()?);
        let frame = ByteString::try_from(Bytes::copy_from_slice(parts.next()?)).ok()?;
        let target = match topic {
            Topic::Channel(name) => Target::Channel {
                name,
                except: except.map(|e| ConnectionId::from(e.as_str())),
            },
            Topic::User(id) => Target::User {
                id,
                via: via.map(Into::into),
            },
            Topic::Node(_) => Target::Connection(ConnectionId::from(connection?.as_str())),
            Topic::All => Target::Everyone,
        };
        Some(Self {
            origin,
            target,
            frame: Frame::from_text(frame),
        })
    }
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
        }
    }

    #[test]
    fn round_trip_keeps_the_target_and_the_packet_bytes() {
        for target in [
            Target::Channel {
                name: "room.1".into(),
                except: Some(ConnectionId::from("abc-7")),
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
            except: Some(ConnectionId::from("abc-7\n\nroom.2")),
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
}
