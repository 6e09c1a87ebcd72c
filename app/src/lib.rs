//! The Switchboard demo application: a chat with a global channel, private channels
//! per user, rooms, and an echo listener.
//!
//! Its listeners are registered by their macros alone: nothing lists them.

pub mod listeners;
pub mod user;
