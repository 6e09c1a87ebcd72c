//! Server-to-client WebSocket frames, encoded once.
//!
//! A send is serialized to JSON once ([`Frame`]) and framed once here (header and
//! unmasked payload); every recipient on a worker is handed the same bytes, and each
//! connection's writer copies a batch of them into one buffer for one write.

use std::rc::Rc;

use actix_http::ws::{CloseReason, OpCode, Parser};
use actix_web::web::{Bytes, BytesMut};

use crate::protocol::Frame;

/// A frame as one worker's queues hold it: its reference count is a plain integer,
/// so queueing it for a recipient costs no atomic operation.
pub(crate) type LocalFrame = Rc<[u8]>;

/// The bytes of one complete server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireFrame(Bytes);

impl WireFrame {
    /// A text frame carrying `frame`'s JSON.
    pub(crate) fn text(frame: &Frame) -> Self {
        Self::message(frame.as_str().as_bytes(), OpCode::Text)
    }

    /// A text frame carrying `text` as it is (the conformance echo).
    pub(crate) fn text_str(text: &str) -> Self {
        Self::message(text.as_bytes(), OpCode::Text)
    }

    /// A binary frame carrying `payload` (the conformance echo).
    pub(crate) fn binary(payload: &[u8]) -> Self {
        Self::message(payload, OpCode::Binary)
    }

    /// A pong answering a ping with `payload`.
    pub(crate) fn pong(payload: &[u8]) -> Self {
        Self::message(payload, OpCode::Pong)
    }

    /// A close frame with `reason`.
    pub(crate) fn close(reason: CloseReason) -> Self {
        let mut buf = BytesMut::new();
        Parser::write_close(&mut buf, Some(reason), false);
        Self(buf.freeze())
    }

    fn message(payload: &[u8], op: OpCode) -> Self {
        let mut buf = BytesMut::with_capacity(payload.len() + 10);
        Parser::write_message(&mut buf, payload, op, true, false);
        Self(buf.freeze())
    }

    /// A copy with a reference count of its own. A broadcast hands one to each other
    /// worker, so the per-recipient clones on a worker touch a counter no other core
    /// writes to.
    pub(crate) fn copy_for_another_worker(&self) -> Self {
        Self(Bytes::copy_from_slice(&self.0))
    }

    /// This worker's copy, shared by every recipient on it.
    pub(crate) fn to_local(&self) -> LocalFrame {
        Rc::from(self.0.as_ref())
    }

    pub(crate) fn bytes(&self) -> &Bytes {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_frame_is_header_then_the_json() {
        let frame = WireFrame::text(&Frame::from_static(r#"{"event":"x"}"#));
        let bytes = frame.bytes();
        assert_eq!(bytes[0], 0x81, "FIN + text");
        assert_eq!(bytes[1] as usize, 13, "unmasked, length 13");
        assert_eq!(&bytes[2..], br#"{"event":"x"}"#);
        assert_eq!(frame.copy_for_another_worker(), frame);
        assert_eq!(&*frame.to_local(), frame.bytes().as_ref());
    }
}
