//! Publish-to-receive latency, recorded into one histogram per thread.
//!
//! Millions of deliveries a second arrive on the load generator's worker threads. One
//! shared histogram would bounce its cache lines between them; a histogram per
//! subscriber would cost 100+ KiB each. So each thread records into its own (reached
//! through a thread-local, locked once per `read`, never contended while the run
//! goes on), and the run merges them at the end.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use hdrhistogram::Histogram;

/// Highest latency recorded (larger values are clamped), in microseconds.
const MAX_LATENCY_US: u64 = 60_000_000;

type Shared = Arc<Mutex<Histogram<u64>>>;

thread_local! {
    /// This thread's histogram for the run with that id.
    static LOCAL: RefCell<Option<(u64, Shared)>> = const { RefCell::new(None) };
}

/// The latencies of one run: a histogram per thread that recorded any.
#[derive(Debug)]
pub struct Latencies {
    /// Tells this run's thread-locals from a previous run's (tests run several in one
    /// process).
    id: u64,
    threads: Mutex<Vec<Shared>>,
}

impl Default for Latencies {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            threads: Mutex::new(Vec::new()),
        }
    }
}

fn empty() -> Histogram<u64> {
    // Bounds are constants that hdrhistogram accepts; fall back to auto-resizing.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).unwrap_or_else(|_| {
        let mut h = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 digits are valid"));
        h.auto(true);
        h
    })
}

impl Latencies {
    /// Records `values_us` into the calling thread's histogram.
    pub fn record(&self, values_us: &[u64]) {
        if values_us.is_empty() {
            return;
        }
        LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            let histogram = match &*local {
                Some((id, histogram)) if *id == self.id => histogram.clone(),
                _ => {
                    let histogram = Arc::new(Mutex::new(empty()));
                    lock(&self.threads).push(histogram.clone());
                    *local = Some((self.id, histogram.clone()));
                    histogram
                }
            };
            let mut histogram = lock(&histogram);
            for &us in values_us {
                histogram.saturating_record(us.clamp(1, MAX_LATENCY_US));
            }
        });
    }

    /// Every thread's histogram merged.
    pub fn merged(&self) -> Histogram<u64> {
        let mut all = empty();
        for histogram in lock(&self.threads).iter() {
            // Same bounds on both sides: adding cannot fail.
            let _ = all.add(&*lock(histogram));
        }
        all
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_merge_and_runs_stay_apart() {
        let first = Arc::new(Latencies::default());
        let second = Latencies::default();
        first.record(&[10, 20]);
        second.record(&[5]);
        let other = first.clone();
        std::thread::spawn(move || other.record(&[30]))
            .join()
            .expect("joins");
        let merged = first.merged();
        assert_eq!(merged.len(), 3);
        assert_eq!(merged.max(), 30);
        assert_eq!(second.merged().len(), 1);
    }
}
