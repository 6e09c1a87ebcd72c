use bytestring::ByteString;
use serde::Serialize;
use serde_json::Value;

use super::{ErrorCode, events};

/// One serialized outgoing packet. Cloning shares the bytes, so a broadcast
/// serializes once and every recipient gets the same buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(ByteString);

impl Frame {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A frame from JSON text known to be a valid packet.
    pub(crate) fn from_static(json: &'static str) -> Self {
        Self(ByteString::from_static(json))
    }

    /// A frame from text that was a frame on another node.
    pub(crate) fn from_text(text: ByteString) -> Self {
        Self(text)
    }
}

#[derive(Serialize)]
struct Outgoing<'a, T: ?Sized> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    data: &'a T,
}

/// Serializes an outgoing packet.
///
/// ```
/// let frame = switchboard::protocol::encode("message", Some("room.1"), &serde_json::json!({"text": "hi"})).unwrap();
/// assert_eq!(frame.as_str(), r#"{"event":"message","channel":"room.1","data":{"text":"hi"}}"#);
/// ```
pub fn encode<T: Serialize + ?Sized>(
    event: &str,
    channel: Option<&str>,
    data: &T,
) -> Result<Frame, serde_json::Error> {
    let json = serde_json::to_string(&Outgoing {
        event,
        channel,
        data,
    })?;
    Ok(Frame(json.into()))
}

/// Builds a frame from values that always serialize (strings, numbers, `Value`).
fn encode_infallible<T: Serialize + ?Sized>(event: &str, channel: Option<&str>, data: &T) -> Frame {
    match encode(event, channel, data) {
        Ok(frame) => frame,
        // serde_json only fails on non-string map keys or failing Serialize impls,
        // neither of which these callers can produce.
        Err(e) => unreachable!("protocol packet failed to serialize: {e}"),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// The `error` packet: `{code, message, event?, channel?, reason?}`; `reason` refines
/// the code (`handler_error` with reason `timeout`).
pub fn error_packet(
    code: ErrorCode,
    message: &str,
    event: Option<&str>,
    channel: Option<&str>,
    reason: Option<&str>,
) -> Frame {
    encode_infallible(
        events::ERROR,
        None,
        &ErrorBody {
            code,
            message,
            event,
            channel,
            reason,
        },
    )
}

/// A successful `ack`: `{id, ok: true, data}`.
pub fn ack_ok(id: u64, data: &Value) -> Frame {
    #[derive(Serialize)]
    struct Ok<'a> {
        id: u64,
        ok: bool,
        data: &'a Value,
    }
    encode_infallible(events::ACK, None, &Ok { id, ok: true, data })
}

/// A failed `ack`: `{id, ok: false, error: {code, message, reason?}}`.
pub fn ack_err(id: u64, code: ErrorCode, message: &str, reason: Option<&str>) -> Frame {
    #[derive(Serialize)]
    struct Err<'a> {
        id: u64,
        ok: bool,
        error: ErrorBody<'a>,
    }
    let error = ErrorBody {
        code,
        message,
        event: None,
        channel: None,
        reason,
    };
    encode_infallible(
        events::ACK,
        None,
        &Err {
            id,
            ok: false,
            error,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn direct_packet_has_no_channel_key() {
        let frame = encode("pong-back", None, &json!({"a": 1})).expect("encodes");
        assert_eq!(frame.as_str(), r#"{"event":"pong-back","data":{"a":1}}"#);
    }

    #[test]
    fn error_and_acks() {
        let e = error_packet(
            ErrorCode::NotSubscribed,
            "join first",
            Some("m"),
            Some("c"),
            None,
        );
        assert_eq!(
            e.as_str(),
            r#"{"event":"error","data":{"code":"not_subscribed","message":"join first","event":"m","channel":"c"}}"#
        );
        let e = error_packet(
            ErrorCode::HandlerError,
            "slow",
            Some("m"),
            None,
            Some("timeout"),
        );
        assert_eq!(
            e.as_str(),
            r#"{"event":"error","data":{"code":"handler_error","message":"slow","event":"m","reason":"timeout"}}"#
        );
        assert_eq!(
            ack_ok(3, &json!(null)).as_str(),
            r#"{"event":"ack","data":{"id":3,"ok":true,"data":null}}"#
        );
        assert_eq!(
            ack_err(3, ErrorCode::BadPayload, "x", None).as_str(),
            r#"{"event":"ack","data":{"id":3,"ok":false,"error":{"code":"bad_payload","message":"x"}}}"#
        );
        assert_eq!(
            ack_err(3, ErrorCode::HandlerError, "x", Some("timeout")).as_str(),
            r#"{"event":"ack","data":{"id":3,"ok":false,"error":{"code":"handler_error","message":"x","reason":"timeout"}}}"#
        );
    }
}
