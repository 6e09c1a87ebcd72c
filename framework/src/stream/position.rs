use serde_json::Value;

use crate::protocol::Frame;

/// The delivery layer gates live publications by the same position.
pub(crate) use crate::delivery::Position;

/// What a client saw last (`since` in `subscribe-channel-request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Since {
    pub(crate) offset: u64,
    pub(crate) epoch: String,
}

impl Since {
    /// `data.since` of a subscribe request: absent is `None`; anything but
    /// `{"offset": unsigned integer, "epoch": string}` is refused with the field named.
    pub(crate) fn from_request(data: &Value) -> Result<Option<Self>, &'static str> {
        let Some(since) = data.get("since") else {
            return Ok(None);
        };
        if since.is_null() {
            return Ok(None);
        }
        let offset = since
            .get("offset")
            .and_then(Value::as_u64)
            .ok_or("`data.since.offset` must be an unsigned integer")?;
        let epoch = since
            .get("epoch")
            .and_then(Value::as_str)
            .ok_or("`data.since.epoch` must be a string")?;
        Ok(Some(Self {
            offset,
            epoch: epoch.to_owned(),
        }))
    }

    /// The `since_offset` and `since_epoch` query parameters of a handshake (the last
    /// send of the user's stream the client saw): both absent is `None`; one without
    /// the other, or an offset that is not an unsigned integer, is refused with the
    /// parameter named.
    pub(crate) fn from_handshake(
        offset: Option<&str>,
        epoch: Option<&str>,
    ) -> Result<Option<Self>, &'static str> {
        match (offset, epoch) {
            (None, None) => Ok(None),
            (Some(offset), Some(epoch)) => Ok(Some(Self {
                offset: offset
                    .parse()
                    .map_err(|_| "`since_offset` must be an unsigned integer")?,
                epoch: epoch.to_owned(),
            })),
            (Some(_), None) => Err("`since_offset` needs `since_epoch` beside it"),
            (None, Some(_)) => Err("`since_epoch` needs `since_offset` beside it"),
        }
    }
}

/// `frame` with the publication's position as top-level fields:
/// `{"event":…,"channel":…,"data":…,"offset":N,"epoch":"E"}`.
pub(crate) fn positioned(frame: &Frame, offset: u64, epoch: &str) -> Frame {
    let json = frame.as_str();
    // Every frame is a JSON object: `{…}`; the position goes before its last brace.
    let body = json.strip_suffix('}').unwrap_or(json);
    let epoch = serde_json::to_string(epoch).unwrap_or_else(|_| String::from("\"\""));
    Frame::from_text(format!(r#"{body},"offset":{offset},"epoch":{epoch}}}"#).into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_position_travels_as_top_level_fields() {
        let frame = crate::protocol::encode("message", Some("room.7"), &json!({"text": "hi"}))
            .expect("encodes");
        let at = positioned(&frame, 42, "k3x9");
        let value: Value = serde_json::from_str(at.as_str()).expect("still JSON");
        assert_eq!(
            value,
            json!({"event": "message", "channel": "room.7", "data": {"text": "hi"},
                   "offset": 42, "epoch": "k3x9"})
        );
    }

    #[test]
    fn a_handshake_since_needs_both_parameters_and_an_unsigned_offset() {
        assert_eq!(Since::from_handshake(None, None), Ok(None));
        assert_eq!(
            Since::from_handshake(Some("20"), Some("k3x9")),
            Ok(Some(Since {
                offset: 20,
                epoch: "k3x9".into()
            }))
        );
        assert_eq!(
            Since::from_handshake(Some("-1"), Some("k3x9")),
            Err("`since_offset` must be an unsigned integer")
        );
        assert_eq!(
            Since::from_handshake(Some("1"), None),
            Err("`since_offset` needs `since_epoch` beside it")
        );
        assert_eq!(
            Since::from_handshake(None, Some("k3x9")),
            Err("`since_epoch` needs `since_offset` beside it")
        );
    }

    #[test]
    fn since_is_optional_and_checked_field_by_field() {
        assert_eq!(Since::from_request(&json!({"channel": "a"})), Ok(None));
        assert_eq!(
            Since::from_request(&json!({"since": {"offset": 3, "epoch": "e"}})),
            Ok(Some(Since {
                offset: 3,
                epoch: "e".into()
            }))
        );
        assert_eq!(
            Since::from_request(&json!({"since": {"offset": -1, "epoch": "e"}})),
            Err("`data.since.offset` must be an unsigned integer")
        );
        assert_eq!(
            Since::from_request(&json!({"since": {"offset": 1, "epoch": 7}})),
            Err("`data.since.epoch` must be a string")
        );
    }
}
