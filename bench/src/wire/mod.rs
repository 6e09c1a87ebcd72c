//! A minimal WebSocket (RFC 6455) for the load generator and the raw baseline.
//!
//! Both sides of the benchmark must cost as little per message as possible: the load
//! generator so that it is never the bottleneck, the raw baseline so that it is "the
//! machine's limit". A general-purpose library pays per message for things neither
//! needs here (a message type per frame, an owned buffer per payload, UTF-8
//! validation, a sink and a stream behind a lock). This module does only what the
//! benchmark needs: the HTTP upgrade ([`handshake`]), parsing and encoding frames in
//! caller-owned buffers ([`frame`]), and a client connection ([`client`]).
//!
//! Not supported, because no server here sends them: fragmented messages (an error),
//! extensions (none are negotiated).

pub mod client;
pub mod frame;
pub mod handshake;

pub use frame::{Frame, FrameError, Opcode};
