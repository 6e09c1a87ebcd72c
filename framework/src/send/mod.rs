//! Sending from anywhere: the [`SocketServer`] handle and the path every send takes.
//!
//! A send is serialized once, delivered to this node's recipients
//! ([`Delivery`](crate::delivery)), then published once for the other nodes
//! ([`Backplane`](crate::transport)), with the same [`Target`] on both paths.

mod controls;
mod global;
mod server;

pub(crate) use controls::{Controls, ForSession};
pub use global::sockets;
pub(crate) use global::{install_for_this_thread, install_global};
pub use server::{SendError, SocketServer};

use std::sync::Arc;

use crate::delivery::{Delivery, Target};
use crate::ids::NodeId;
use crate::protocol::Frame;
use crate::transport::Backplane;

/// What every send on one node goes through.
#[derive(Debug)]
pub(crate) struct SendPath {
    pub(crate) node: NodeId,
    pub(crate) delivery: Delivery,
    pub(crate) backplane: Backplane,
    /// The sessions, for server-side control.
    pub(crate) controls: Arc<Controls>,
}

impl SendPath {
    /// Delivers here, then publishes for the other nodes; returns the recipients here.
    pub(crate) fn send(&self, target: Target, frame: Frame) -> usize {
        let delivered = self.delivery.deliver(&target, &frame);
        self.backplane.publish(&target, frame);
        delivered
    }
}
