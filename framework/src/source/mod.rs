//! Sources: where signals come from besides application code. Each node runs its own
//! source and signals only its own subscribers, so a subscriber gets each change once
//! whatever the number of nodes (nothing is re-published over the backplane).
//!
//! Built with the cargo feature `postgres`. Layout: `postgres` (LISTEN on PostgreSQL),
//! `notification` (what a change notification says, and the channel it signals: no
//! database needed to test it).

mod notification;
pub(crate) mod postgres;

pub(crate) use notification::{NOTIFY_CHANNEL, Notification};
