//! The bytes one node publishes for the others: a few header lines, then the packet
//! exactly as it goes to clients, so no node serializes it again.
//!
//! ```text
//! sb1\n ORIGIN_NODE \n TARGET_CONNECTION \n EXCEPT_CONNECTION \n ONLY_ON_CHANNEL \n {packet json}
//! ```
//! Empty header lines mean "none". Header values never contain a newline (node and
//! connection ids are hex and digits, channel names a restricted alphabet).

use actix_web::web::Bytes;
use bytestring::ByteString;

use crate::protocol::Frame;

const VERSION: &str = "sb1";

/// One cross-node message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) origin: String,
    /// For a node topic: the connection the frame is for.
    pub(crate) target: Option<String>,
    /// A connection to skip (the sender of a `broadcast_except`).
    pub(crate) except: Option<String>,
    /// For a user topic: deliver only to the user's connections on this channel.
    pub(crate) only_on: Option<String>,
    pub(crate) frame: Frame,
}

impl Envelope {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let frame = self.frame.as_str();
        let fields = [
            VERSION,
            &self.origin,
            self.target.as_deref().unwrap_or(""),
            self.except.as_deref().unwrap_or(""),
            self.only_on.as_deref().unwrap_or(""),
        ];
        let mut out =
            Vec::with_capacity(frame.len() + fields.iter().map(|f| f.len() + 1).sum::<usize>());
        for field in fields {
            out.extend_from_slice(field.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(frame.as_bytes());
        out
    }

    /// Parses a published message; `None` for anything this version did not write.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut parts = bytes.splitn(6, |b| *b == b'\n');
        let mut field = || -> Option<String> {
            let raw = parts.next()?;
            std::str::from_utf8(raw).ok().map(str::to_owned)
        };
        if field()? != VERSION {
            return None;
        }
        let origin = field()?;
        let optional = |s: String| (!s.is_empty()).then_some(s);
        let target = optional(field()?);
        let except = optional(field()?);
        let only_on = optional(field()?);
        let frame = ByteString::try_from(Bytes::copy_from_slice(parts.next()?)).ok()?;
        Some(Self {
            origin,
            target,
            except,
            only_on,
            frame: Frame::from_text(frame),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_packet_bytes() {
        let frame = crate::protocol::encode("m", Some("room.1"), &serde_json::json!({"t": "a\nb"}))
            .expect("encodes");
        let envelope = Envelope {
            origin: "abc".into(),
            target: None,
            except: Some("abc-7".into()),
            only_on: None,
            frame,
        };
        let decoded = Envelope::decode(&envelope.encode()).expect("decodes");
        assert_eq!(decoded, envelope);
    }

    #[test]
    fn foreign_bytes_are_refused() {
        assert_eq!(Envelope::decode(b"hello"), None);
        assert_eq!(Envelope::decode(b"sb2\na\n\n\n\n{}"), None);
        assert_eq!(Envelope::decode(b"sb1\na\n\n\n"), None);
    }
}
