use std::time::Duration;

/// How much of a stream's past is kept: the last `size` publications, until `ttl` has
/// passed since the last one.
///
/// ```
/// use switchboard::HistorySpec;
/// let spec = HistorySpec::new(100, 600); // what `history(size = 100, ttl = "10m")` declares
/// assert_eq!(spec.size(), 100);
/// assert_eq!(spec.ttl().as_secs(), 600);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistorySpec {
    size: usize,
    ttl_secs: u64,
}

impl HistorySpec {
    /// Keeps the last `size` publications (at least 1) for `ttl_secs` (at least 1)
    /// after the last one.
    pub const fn new(size: usize, ttl_secs: u64) -> Self {
        Self {
            size: if size == 0 { 1 } else { size },
            ttl_secs: if ttl_secs == 0 { 1 } else { ttl_secs },
        }
    }

    /// Publications kept.
    pub const fn size(&self) -> usize {
        self.size
    }

    /// How long history lives after the last publication.
    pub const fn ttl(&self) -> Duration {
        Duration::from_secs(self.ttl_secs)
    }
}
