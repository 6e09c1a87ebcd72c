//! Sending from anywhere: the [`SocketServer`] handle and the path every send takes.
//!
//! A send is serialized once, delivered to this node's recipients
//! ([`Delivery`](crate::delivery)), then published once for the other nodes
//! ([`Backplane`](crate::transport)), with the same [`Target`] on both paths.

mod commands;
mod controls;
mod global;
mod initiator;
#[cfg(feature = "metrics")]
mod metrics;
mod presence;
mod server;
mod signals;

pub use commands::{ControlError, Disconnect, Sockets};
pub(crate) use controls::{Controls, ForSession};
pub use global::sockets;
pub(crate) use global::{install_for_this_thread, install_global};
pub use initiator::Initiator;
#[cfg(feature = "metrics")]
pub use metrics::MetricsFormat;
pub use server::{SendError, SocketServer};
pub use signals::SignalData;
pub(crate) use signals::{Coalescer, Raised};

use std::sync::Arc;

use crate::delivery::{Delivery, Target};
use crate::ids::NodeId;
use crate::presence::LocalPresence;
use crate::protocol::Frame;
use crate::stream::{History, HistorySpec, StreamSpecs, user_stream};
use crate::transport::Backplane;

/// What every send on one node goes through.
#[derive(Debug)]
pub(crate) struct SendPath {
    pub(crate) node: NodeId,
    pub(crate) delivery: Delivery,
    pub(crate) backplane: Backplane,
    /// The sessions, for server-side control.
    pub(crate) controls: Arc<Controls>,
    /// Which channels are streams, and what they keep.
    pub(crate) streams: Streams,
    /// Signals waiting for their coalescing window to end.
    pub(crate) signals: Coalescer,
    /// This node's connections per presence channel and user.
    pub(crate) presence: Arc<LocalPresence>,
    /// Whether a channel listener's pattern matches a channel name.
    pub(crate) listens: Listens,
}

/// Whether a channel listener's pattern matches a channel name (the registry sits
/// above this layer, so the server hands its answer down).
pub(crate) struct Listens(pub(crate) Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl std::fmt::Debug for Listens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Listens")
    }
}

/// The streams of one node (see `crate::stream`).
pub(crate) struct Streams {
    pub(crate) specs: StreamSpecs,
    pub(crate) history: History,
    /// What a user's stream keeps; `None` when sends to users are not kept.
    pub(crate) user: Option<HistorySpec>,
}

impl Streams {
    /// The stream a send to `target` is a publication on, if any: a stream channel's,
    /// or (for a send to all of a user's connections) the user's. Its name keys the
    /// history.
    pub(crate) fn of(&self, target: &Target) -> Option<(Arc<str>, HistorySpec)> {
        match target {
            Target::Channel { name, .. } => (self.specs)(name).map(|spec| (name.clone(), spec)),
            Target::User { id, via: None } => self.user.map(|spec| (user_stream(id), spec)),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams")
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl SendPath {
    /// Delivers here, then publishes for the other nodes; returns the recipients here.
    /// A publication on a stream gets its position first, and is kept.
    pub(crate) fn send(&self, target: Target, frame: Frame) -> usize {
        if let Some((stream, spec)) = self.streams.of(&target) {
            if self.backplane.spans_nodes() {
                // The broker positions it; every node, this one too, delivers it from there.
                let here = self.delivery.index().recipients(&target);
                self.backplane.publish_stream(&target, frame, spec);
                return here;
            }
            let history = &self.streams.history;
            return history.publish(&stream, spec, &frame, |at, position| {
                let delivered = self.delivery.deliver_at(&target, at, position.clone());
                self.backplane.publish(&target, at.clone());
                delivered
            });
        }
        let delivered = self.delivery.deliver(&target, &frame);
        self.backplane.publish(&target, frame);
        delivered
    }
}
