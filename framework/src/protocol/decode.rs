use serde_json::{Map, Value};

use super::ErrorCode;

/// A packet received from a client.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundPacket {
    /// What happened or what is asked.
    pub event: String,
    /// The concrete channel; `None` for a direct packet.
    pub channel: Option<String>,
    /// The payload; `{}` when absent.
    pub data: Value,
    /// Asks for an `ack` when present.
    pub id: Option<u64>,
}

/// Why a frame is not a packet. Each maps to an [`ErrorCode`] the client receives.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The text is not JSON at all.
    #[error("frame is not valid JSON: {0}")]
    Json(String),
    /// JSON, but not a packet.
    #[error("{message}")]
    Shape {
        /// What is wrong, naming the field.
        message: String,
        /// The `id` if it could be read, so the refusal can be acked.
        id: Option<u64>,
        /// The `event` if it could be read.
        event: Option<String>,
    },
}

impl DecodeError {
    /// The protocol error code for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Json(_) => ErrorCode::BadJson,
            Self::Shape { .. } => ErrorCode::BadPacket,
        }
    }

    /// The packet id, when the broken packet still carried a readable one.
    pub fn id(&self) -> Option<u64> {
        match self {
            Self::Json(_) => None,
            Self::Shape { id, .. } => *id,
        }
    }
}

impl InboundPacket {
    /// Parses one text frame. Unknown top-level fields are ignored, as older clients may send them.
    ///
    /// ```
    /// use switchboard::protocol::InboundPacket;
    /// let p = InboundPacket::decode(r#"{"event":"message","channel":"room.1","id":3}"#).unwrap();
    /// assert_eq!(p.event, "message");
    /// assert_eq!(p.channel.as_deref(), Some("room.1"));
    /// assert_eq!(p.data, serde_json::json!({}));
    /// assert_eq!(p.id, Some(3));
    /// ```
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| DecodeError::Json(e.to_string()))?;
        let Value::Object(mut fields) = value else {
            return Err(shape(
                format!("a packet must be a JSON object, not {}", kind(&value)),
                None,
                None,
            ));
        };
        // Read `id` and `event` first so later refusals can still be acked and named.
        let id = take_id(&mut fields);
        let readable_id = id.clone().ok().flatten();
        let event = match fields.remove("event") {
            Some(Value::String(event)) if !event.is_empty() => event,
            Some(Value::String(_)) => {
                return Err(shape("`event` must not be empty", readable_id, None));
            }
            Some(other) => {
                return Err(shape(
                    format!("`event` must be a string, not {}", kind(&other)),
                    readable_id,
                    None,
                ));
            }
            None => return Err(shape("missing `event`", readable_id, None)),
        };
        let id = id.map_err(|message| shape(message, None, Some(event.clone())))?;
        let channel = match fields.remove("channel") {
            None | Some(Value::Null) => None,
            Some(Value::String(channel)) => Some(channel),
            Some(other) => {
                return Err(shape(
                    format!("`channel` must be a string, not {}", kind(&other)),
                    id,
                    Some(event),
                ));
            }
        };
        let data = match fields.remove("data") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(data) => data,
        };
        Ok(Self {
            event,
            channel,
            data,
            id,
        })
    }
}

fn take_id(fields: &mut Map<String, Value>) -> Result<Option<u64>, String> {
    match fields.remove("id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`id` must be an unsigned integer, not {n}")),
        Some(other) => Err(format!(
            "`id` must be an unsigned integer, not {}",
            kind(&other)
        )),
    }
}

fn shape(message: impl Into<String>, id: Option<u64>, event: Option<String>) -> DecodeError {
    DecodeError::Shape {
        message: message.into(),
        id,
        event,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(text: &str) -> DecodeError {
        match InboundPacket::decode(text) {
            Err(e) => e,
            Ok(p) => panic!("{text} decoded to {p:?}"),
        }
    }

    #[test]
    fn full_packet() {
        let p = InboundPacket::decode(r#"{"event":"m","channel":"c","data":[1],"id":9,"x":1}"#)
            .expect("valid");
        assert_eq!(
            p,
            InboundPacket {
                event: "m".into(),
                channel: Some("c".into()),
                data: json!([1]),
                id: Some(9)
            }
        );
    }

    #[test]
    fn null_fields_are_absent() {
        let p = InboundPacket::decode(r#"{"event":"m","channel":null,"data":null,"id":null}"#)
            .expect("valid");
        assert_eq!((p.channel, p.data, p.id), (None, json!({}), None));
    }

    #[test]
    fn not_json() {
        let e = refused("hello");
        assert_eq!(e.code(), ErrorCode::BadJson);
    }

    #[test]
    fn shapes_are_named() {
        for (text, message) in [
            ("[1,2]", "a packet must be a JSON object, not an array"),
            ("\"x\"", "a packet must be a JSON object, not a string"),
            ("{}", "missing `event`"),
            (r#"{"event":3}"#, "`event` must be a string, not a number"),
            (r#"{"event":""}"#, "`event` must not be empty"),
            (
                r#"{"event":"e","channel":1}"#,
                "`channel` must be a string, not a number",
            ),
            (
                r#"{"event":"e","id":-1}"#,
                "`id` must be an unsigned integer, not -1",
            ),
            (
                r#"{"event":"e","id":"7"}"#,
                "`id` must be an unsigned integer, not a string",
            ),
        ] {
            let e = refused(text);
            assert_eq!(e.code(), ErrorCode::BadPacket, "{text}");
            assert_eq!(e.to_string(), message, "{text}");
        }
    }

    #[test]
    fn refusal_keeps_id_for_the_ack() {
        assert_eq!(refused(r#"{"id":4}"#).id(), Some(4));
        assert_eq!(
            refused(r#"{"id":4,"event":"e","channel":[]}"#).id(),
            Some(4)
        );
    }
}
