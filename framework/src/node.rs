//! [`Node`]: what every session, channel actor and route of one server process shares.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::auth::Chain;
use crate::channel::Channels;
use crate::config::Settings;
use crate::delivery::Delivery;
use crate::ids::ConnectionIds;
use crate::listener::{ConnectionHooks, States};
use crate::registry::Registry;
use crate::send::{SendPath, SocketServer};
use crate::stats::Metrics;
use crate::transport::Backplane;

/// One server: its settings, listeners, middleware, live channels, and the path its
/// sends take.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) settings: Settings,
    pub(crate) ids: ConnectionIds,
    pub(crate) registry: Arc<Registry>,
    pub(crate) channels: Channels,
    pub(crate) auth: Chain,
    pub(crate) sends: Arc<SendPath>,
    /// Sessions echo every message and speak no protocol (the conformance suite's
    /// endpoint; see `SwitchboardBuilder::conformance_echo`).
    pub(crate) echo: bool,
    /// Application state for `State<T>` parameters.
    pub(crate) states: Arc<States>,
    /// `on_connect` and `on_disconnect`, from the builder.
    pub(crate) hooks: ConnectionHooks,
    /// Set when a graceful shutdown begins: new upgrades are refused.
    draining: AtomicBool,
}

impl Node {
    pub(crate) fn new(
        settings: Settings,
        ids: ConnectionIds,
        registry: Arc<Registry>,
        channels: Channels,
        auth: Chain,
        sends: SendPath,
    ) -> Self {
        Self {
            settings,
            ids,
            registry,
            channels,
            auth,
            sends: Arc::new(sends),
            echo: false,
            states: Arc::default(),
            hooks: ConnectionHooks::default(),
            draining: AtomicBool::new(false),
        }
    }

    pub(crate) fn delivery(&self) -> &Delivery {
        &self.sends.delivery
    }

    pub(crate) fn backplane(&self) -> &Backplane {
        &self.sends.backplane
    }

    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        self.sends.delivery.metrics()
    }

    /// The handle applications send through.
    pub(crate) fn server(&self) -> SocketServer {
        SocketServer::new(self.sends.clone())
    }

    /// Marks the node as draining; false when it already was.
    pub(crate) fn start_draining(&self) -> bool {
        !self.draining.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}
