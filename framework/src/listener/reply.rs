//! Where the outcome of one client packet goes.

use std::sync::Arc;

use serde_json::Value;

use super::{Invocation, SocketError};
use crate::delivery::Outbox;
use crate::protocol::{ack_err, ack_ok, error_packet};

/// Answers one packet: a failure becomes an `error` packet, and an `ack` follows
/// whenever the client sent an `id`. Usable from any thread (it only needs the outbox).
#[derive(Debug)]
pub(crate) struct Reply {
    outbox: Outbox,
    id: Option<u64>,
    event: Option<Arc<str>>,
    channel: Option<Arc<str>>,
}

impl Reply {
    pub(crate) fn new(
        outbox: Outbox,
        id: Option<u64>,
        event: Option<Arc<str>>,
        channel: Option<Arc<str>>,
    ) -> Self {
        Self {
            outbox,
            id,
            event,
            channel,
        }
    }

    pub(crate) fn to(invocation: &Invocation) -> Self {
        Self::new(
            invocation.outbox.clone(),
            invocation.id,
            Some(invocation.event.clone()),
            invocation
                .connection
                .channel
                .as_ref()
                .map(|c| c.name.clone()),
        )
    }

    /// Records how long the handler took (for the dispatch histogram).
    pub(crate) fn record_dispatch(&self, took: std::time::Duration) {
        self.outbox.metrics().dispatched(took);
    }

    /// Answers with `outcome`, or with `handler_error` (reason `timeout`) when the
    /// handler has not finished within `limit`.
    pub(crate) async fn after(
        self,
        limit: std::time::Duration,
        handler: impl std::future::Future<Output = Result<Value, SocketError>>,
    ) {
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(limit, handler)
            .await
            .unwrap_or_else(|_| {
                Err(SocketError::new(format!(
                    "the handler did not finish within {} s",
                    limit.as_secs()
                ))
                .with_reason("timeout"))
            });
        self.record_dispatch(started.elapsed());
        self.send(outcome);
    }

    pub(crate) fn send(self, outcome: Result<Value, SocketError>) {
        // A full outbox already closes the connection (4008): nothing more to do on failure.
        match outcome {
            Ok(data) => {
                if let Some(id) = self.id {
                    let _ = self.outbox.push(&ack_ok(id, &data));
                }
            }
            Err(e) => {
                self.outbox.metrics().error(e.code());
                let _ = self.outbox.push(&error_packet(
                    e.code(),
                    e.message(),
                    self.event.as_deref(),
                    self.channel.as_deref(),
                    e.reason(),
                ));
                if let Some(id) = self.id {
                    let _ = self
                        .outbox
                        .push(&ack_err(id, e.code(), e.message(), e.reason()));
                }
            }
        }
    }
}
