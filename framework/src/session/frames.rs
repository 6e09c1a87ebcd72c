//! Reassembles fragmented messages and enforces `limits.max_message_bytes`.
//!
//! The codec in [`super::inbound`] enforces the per-frame limit; this joins
//! continuation frames and enforces the same limit on the whole message, with typed
//! errors so each maps to its close code.

use actix_http::ws::Item;
use actix_web::web::BytesMut;
use bytestring::ByteString;

use crate::protocol::CloseCode;

/// A complete data message.
#[derive(Debug)]
pub(crate) enum Assembled {
    Text(ByteString),
    Binary(actix_web::web::Bytes),
}

/// A fragment sequence that cannot be accepted; the connection closes with its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FragmentError {
    #[error("fragmented message larger than {limit} bytes")]
    TooBig { limit: usize },
    #[error("fragmented text message is not valid UTF-8")]
    InvalidUtf8,
    #[error("continuation frame without a first frame, or a new first frame mid-message")]
    OutOfOrder,
}

impl FragmentError {
    pub(crate) fn close_code(self) -> CloseCode {
        match self {
            Self::TooBig { .. } => CloseCode::TooBig,
            Self::InvalidUtf8 => CloseCode::InvalidPayload,
            Self::OutOfOrder => CloseCode::ProtocolError,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// Fragments received so far for the message in progress.
#[derive(Debug)]
pub(crate) struct Reassembly {
    limit: usize,
    current: Option<(Kind, BytesMut)>,
}

impl Reassembly {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            current: None,
        }
    }

    /// Adds one fragment; returns the message once its last fragment arrives.
    pub(crate) fn push(&mut self, item: Item) -> Result<Option<Assembled>, FragmentError> {
        match item {
            Item::FirstText(bytes) => self.start(Kind::Text, &bytes).map(|()| None),
            Item::FirstBinary(bytes) => self.start(Kind::Binary, &bytes).map(|()| None),
            Item::Continue(bytes) => self.append(&bytes).map(|()| None),
            Item::Last(bytes) => {
                self.append(&bytes)?;
                let (kind, buf) = self.current.take().ok_or(FragmentError::OutOfOrder)?;
                match kind {
                    Kind::Binary => Ok(Some(Assembled::Binary(buf.freeze()))),
                    Kind::Text => ByteString::try_from(buf.freeze())
                        .map(|text| Some(Assembled::Text(text)))
                        .map_err(|_| FragmentError::InvalidUtf8),
                }
            }
        }
    }

    fn start(&mut self, kind: Kind, bytes: &[u8]) -> Result<(), FragmentError> {
        if self.current.is_some() {
            return Err(FragmentError::OutOfOrder);
        }
        self.current = Some((kind, BytesMut::new()));
        self.append(bytes)
    }

    fn append(&mut self, bytes: &[u8]) -> Result<(), FragmentError> {
        let (_, buf) = self.current.as_mut().ok_or(FragmentError::OutOfOrder)?;
        if buf.len() + bytes.len() > self.limit {
            self.current = None; // free what was gathered; the connection is closing
            return Err(FragmentError::TooBig { limit: self.limit });
        }
        buf.extend_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use actix_web::web::Bytes;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn joins_text_fragments() {
        let mut r = Reassembly::new(100);
        assert!(matches!(r.push(Item::FirstText(b("{\"ev"))), Ok(None)));
        assert!(matches!(r.push(Item::Continue(b("ent\":"))), Ok(None)));
        match r.push(Item::Last(b("\"x\"}"))) {
            Ok(Some(Assembled::Text(t))) => assert_eq!(&*t, "{\"event\":\"x\"}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limit_applies_to_the_whole_message() {
        let mut r = Reassembly::new(8);
        assert!(r.push(Item::FirstText(b("12345"))).is_ok());
        assert_eq!(
            r.push(Item::Continue(b("6789"))).err(),
            Some(FragmentError::TooBig { limit: 8 })
        );
    }

    #[test]
    fn out_of_order_and_bad_utf8() {
        let mut r = Reassembly::new(8);
        assert_eq!(
            r.push(Item::Continue(b("x"))).err(),
            Some(FragmentError::OutOfOrder)
        );
        assert!(r.push(Item::FirstText(Bytes::from_static(&[0xff]))).is_ok());
        assert_eq!(
            r.push(Item::Last(b(""))).err(),
            Some(FragmentError::InvalidUtf8)
        );
    }
}
