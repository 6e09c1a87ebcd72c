//! Wire protocol v1: packets, reserved events, error and close codes.
//!
//! One WebSocket text frame carries one JSON packet:
//! `{"event": "message", "channel": "global-chat", "data": {...}, "id": 7}`.
//! The full specification is `docs/protocol.md` in the repository; this module is its single
//! implementation, so every other module speaks in these types.

mod codes;
mod decode;
mod encode;
pub mod events;

pub use codes::{CloseCode, ErrorCode};
pub use decode::{DecodeError, InboundPacket};
pub use encode::{Frame, ack_err, ack_ok, encode, error_packet};
