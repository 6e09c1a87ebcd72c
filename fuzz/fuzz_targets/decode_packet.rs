//! Any frame a client can send: decoding never panics, and a decoded packet keeps the
//! invariants the session relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::protocol::{ErrorCode, InboundPacket};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // the session closes non-UTF-8 text with 1007 before decoding
    };
    match InboundPacket::decode(text) {
        Ok(packet) => {
            assert!(!packet.event.is_empty());
            assert!(!packet.data.is_null(), "absent data defaults to {{}}");
        }
        Err(e) => {
            assert!(matches!(e.code(), ErrorCode::BadJson | ErrorCode::BadPacket));
            assert!(!e.to_string().is_empty());
        }
    }
});
