use super::{Backplane, BackplaneStats, Envelope, Synced, Topic};

/// One node: local delivery is all there is.
#[derive(Debug, Default)]
pub(crate) struct Memory;

impl Backplane for Memory {
    fn publish(&self, _: Topic, _: Envelope) {}

    fn sync(&self, _: Topic) -> Synced {
        Box::pin(async {})
    }

    fn spans_nodes(&self) -> bool {
        false
    }

    fn close(&self) -> Synced {
        Box::pin(async {})
    }

    fn stats(&self) -> BackplaneStats {
        BackplaneStats {
            kind: "memory",
            connected: true,
            ..BackplaneStats::default()
        }
    }
}
