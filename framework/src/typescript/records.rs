//! What the macros register for the declarations, beside the routing records: the
//! payload types of each event, as functions that write them (all const, so a record
//! is built at compile time like every other `inventory` record).

use super::types::TsType;

/// One event and its payload: a union of the types given (`emits(message = A | B)`).
#[derive(Debug)]
pub struct Emitted {
    pub(crate) name: &'static str,
    pub(crate) payloads: &'static [TsType],
}

impl Emitted {
    /// Event `name`, whose data is one of `payloads`.
    pub const fn new(name: &'static str, payloads: &'static [TsType]) -> Self {
        Self { name, payloads }
    }
}

/// One event a listener handles: the payload of its `Packet<T>` and the ack's data.
/// `None` is `unknown` (no `Packet<T>`, or a return type that does not say).
#[derive(Debug)]
pub struct Handled {
    pub(crate) name: &'static str,
    pub(crate) payload: Option<TsType>,
    pub(crate) ack: Option<TsType>,
}

impl Handled {
    /// Event `name`, taking `payload` and answering with `ack`.
    pub const fn new(name: &'static str, payload: Option<TsType>, ack: Option<TsType>) -> Self {
        Self { name, payload, ack }
    }
}

/// A channel listener's pattern and what the server sends on its channels, from
/// `#[derive(ChannelListener)]`. `emits: None` when `#[channel]` declares none.
#[derive(Debug)]
pub struct ChannelDecl {
    pub(crate) listener: fn() -> &'static str,
    pub(crate) pattern: &'static str,
    pub(crate) emits: Option<&'static [Emitted]>,
}

impl ChannelDecl {
    /// The listener whose `type_name` is `listener`.
    pub const fn new(
        listener: fn() -> &'static str,
        pattern: &'static str,
        emits: Option<&'static [Emitted]>,
    ) -> Self {
        Self {
            listener,
            pattern,
            emits,
        }
    }
}

/// The events a channel listener handles, from `#[channel_events]`; joined to its
/// [`ChannelDecl`] by the listener's type name.
#[derive(Debug)]
pub struct HandlersDecl {
    pub(crate) listener: fn() -> &'static str,
    pub(crate) handles: &'static [Handled],
}

impl HandlersDecl {
    /// The events of the listener whose `type_name` is `listener`.
    pub const fn new(listener: fn() -> &'static str, handles: &'static [Handled]) -> Self {
        Self { listener, handles }
    }
}

/// A socket listener's event, from `#[socket_handler]`.
#[derive(Debug)]
pub struct SocketDecl {
    pub(crate) handled: Handled,
}

impl SocketDecl {
    /// The socket listener handling `handled`.
    pub const fn new(handled: Handled) -> Self {
        Self { handled }
    }
}

/// Direct events the server sends without a channel, from
/// [`direct_events!`](crate::direct_events).
#[derive(Debug)]
pub struct DirectDecl {
    pub(crate) events: &'static [Emitted],
}

impl DirectDecl {
    /// These events.
    pub const fn new(events: &'static [Emitted]) -> Self {
        Self { events }
    }
}

inventory::collect!(ChannelDecl);
inventory::collect!(HandlersDecl);
inventory::collect!(SocketDecl);
inventory::collect!(DirectDecl);
