//! What the publishers and subscribers of one run share while it goes on.
//!
//! Everything here is touched at most once per `read` of a subscriber (the counters,
//! the latency histograms) or once per block of messages (the window), never once per
//! delivery, so the load generator's threads do not fight over cache lines.

use std::sync::atomic::{AtomicBool, AtomicU64};

use super::latency::Latencies;
use super::window::Window;

/// Shared by every task of a run.
#[derive(Debug)]
pub struct Shared {
    /// Messages received by subscribers, duplicates included.
    pub delivered: AtomicU64,
    /// Socket reads that brought subscribers at least one delivery: deliveries over
    /// reads is how many frames the server wrote per batch, as the client sees it.
    pub reads: AtomicU64,
    /// Messages sent by publishers.
    pub sent: AtomicU64,
    /// Subscribers whose connection ended before the run did.
    pub closed_early: AtomicU64,
    /// Set when the run is over: subscribers stop recording.
    pub stopped: AtomicBool,
    /// Broadcast pacing: messages in flight to the slowest subscriber.
    pub window: Window,
    /// Publish-to-receive latencies.
    pub latencies: Latencies,
}

impl Shared {
    /// The state of a run whose `publishers` each keep at most `window` messages in
    /// flight (broadcast pacing; unused otherwise).
    pub fn new(window: usize, publishers: usize) -> Self {
        Self {
            delivered: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            closed_early: AtomicU64::new(0),
            stopped: AtomicBool::new(false),
            window: Window::new(window, publishers),
            latencies: Latencies::default(),
        }
    }
}
