//! What the macros register, and the routing table built from it once at start-up.
//!
//! Registration order is not stable between builds, so the table is sorted (most
//! specific pattern first) and every ambiguity is reported, naming both listeners.

mod records;
mod table;

pub(crate) use records::Erased;
pub use records::{ChannelRegistration, SocketRegistration};
pub(crate) use table::Registry;
pub use table::RegistryError;
