use serde::de::DeserializeOwned;

use super::{Invocation, SocketError};
use crate::protocol::ErrorCode;

/// An event's payload, deserialized into `T`. A payload that does not fit is refused
/// with `bad_payload`, naming the field, before the handler runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Packet<T> {
    /// The event name.
    pub event: String,
    /// The concrete channel, for channel events.
    pub channel: Option<String>,
    /// The payload.
    pub data: T,
    /// The client's ack id, if any.
    pub id: Option<u64>,
}

impl<T: DeserializeOwned> Packet<T> {
    /// Extracts the packet from an invocation (used by generated code).
    pub fn extract(invocation: &Invocation) -> Result<Self, SocketError> {
        let data = serde_path_to_error::deserialize(&invocation.data).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "`data`".to_owned()
            } else {
                format!("`data.{path}`")
            };
            SocketError::with_code(
                ErrorCode::BadPayload,
                format!("{field}: {}", e.into_inner()),
            )
        })?;
        Ok(Self {
            event: invocation.event.to_string(),
            channel: invocation.connection.channel().map(str::to_owned),
            data,
            id: invocation.id,
        })
    }
}
