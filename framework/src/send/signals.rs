//! Signals: broadcasts that say "this changed, re-fetch", coalesced per channel and
//! event, so a burst of writes costs each subscribed page one re-fetch, not one per
//! write.
//!
//! A signal's data is `{"at": MS, "count": N}`: when the last write it stands for was
//! signalled (milliseconds since the Unix epoch, "fetch what changed after T") and how
//! many it stands for. The first signal of a channel and event opens a window
//! (`signals.coalesce_ms`); what follows joins it; one signal goes out when it ends, so
//! the last one always comes after the last write.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use super::SendPath;
use crate::delivery::{Except, Target};
use crate::protocol;

/// The data of a signal: `{"at": MS, "count": N}`. Declare it as the payload of a
/// signalled event (`emits(changed = switchboard::SignalData)`) for the TypeScript
/// declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct SignalData {
    /// When the last write it stands for was signalled, in milliseconds since the Unix
    /// epoch: "fetch what changed after this".
    pub at: u64,
    /// How many signals it stands for.
    pub count: u64,
}

/// One signal as raised.
#[derive(Debug, Clone)]
pub(crate) struct Raised {
    pub(crate) channel: Arc<str>,
    pub(crate) event: Arc<str>,
    /// The connection whose action caused it (or all of its user's), which needs no
    /// signal.
    pub(crate) except: Option<Except>,
    /// For this node's subscribers only: raised by a source every node runs itself.
    pub(crate) local: bool,
    /// Milliseconds since the Unix epoch.
    pub(crate) at: u64,
}

impl Raised {
    pub(crate) fn new(channel: &str, event: &str, except: Option<Except>) -> Self {
        Self {
            channel: channel.into(),
            event: event.into(),
            except,
            local: false,
            at: now_ms(),
        }
    }
}

/// Signals of one channel and event waiting for their window to end.
#[derive(Debug)]
struct Batch {
    due: Instant,
    count: u64,
    last: Raised,
}

/// Holds signals for `window`, then sends one per channel and event; a thread of its
/// own (started with the first signal) keeps time, so signals can be raised from any
/// thread, with or without a runtime.
#[derive(Debug)]
pub(crate) struct Coalescer {
    window: Duration,
    inbox: Mutex<Option<mpsc::Sender<Raised>>>,
}

impl Coalescer {
    pub(crate) fn new(window: Duration) -> Self {
        Self {
            window,
            inbox: Mutex::new(None),
        }
    }

    /// Sends `raised` once its window ends (at once when there is none).
    pub(crate) fn raise(&self, path: &Arc<SendPath>, raised: Raised) {
        if self.window.is_zero() {
            return emit(path, &raised, 1);
        }
        let mut inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        let sender = inbox.get_or_insert_with(|| start(Arc::downgrade(path), self.window));
        if let Err(mpsc::SendError(raised)) = sender.send(raised) {
            // The thread could not be started or has gone: send it now.
            *inbox = None;
            emit(path, &raised, 1);
        }
    }
}

/// The thread that keeps the windows; it ends with the node (its inbox closes).
fn start(path: Weak<SendPath>, window: Duration) -> mpsc::Sender<Raised> {
    let (sender, inbox) = mpsc::channel::<Raised>();
    let spawned = std::thread::Builder::new()
        .name("switchboard-signals".into())
        .spawn(move || {
            let mut waiting: HashMap<(Arc<str>, Arc<str>, bool), Batch> = HashMap::new();
            loop {
                let next = waiting.values().map(|b| b.due).min();
                let received = match next {
                    None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    Some(due) => inbox.recv_timeout(due.saturating_duration_since(Instant::now())),
                };
                match received {
                    Ok(raised) => join(&mut waiting, raised, window),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                let now = Instant::now();
                let due: Vec<_> = waiting
                    .iter()
                    .filter(|(_, batch)| batch.due <= now)
                    .map(|(key, _)| key.clone())
                    .collect();
                let Some(path) = path.upgrade() else { return };
                for key in due {
                    if let Some(batch) = waiting.remove(&key) {
                        emit(&path, &batch.last, batch.count);
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the signal thread; signals go out one by one");
    }
    sender
}

/// Adds `raised` to its channel's and event's window, opening one if there is none.
fn join(
    waiting: &mut HashMap<(Arc<str>, Arc<str>, bool), Batch>,
    raised: Raised,
    window: Duration,
) {
    let key = (raised.channel.clone(), raised.event.clone(), raised.local);
    match waiting.get_mut(&key) {
        Some(batch) => {
            batch.count += 1;
            // Only when every write in the window came from one connection may it be
            // left out: the others changed what it shows.
            if batch.last.except != raised.except {
                batch.last.except = None;
            }
            batch.last.at = batch.last.at.max(raised.at);
        }
        None => {
            let batch = Batch {
                due: Instant::now() + window,
                count: 1,
                last: raised,
            };
            waiting.insert(key, batch);
        }
    }
}

/// Sends one signal standing for `count` raised ones.
fn emit(path: &SendPath, raised: &Raised, count: u64) {
    let data = SignalData {
        at: raised.at,
        count,
    };
    let frame = match protocol::encode(&raised.event, Some(&raised.channel), &data) {
        Ok(frame) => frame,
        Err(e) => return tracing::error!(error = %e, "signal failed to serialize"),
    };
    let target = Target::Channel {
        name: raised.channel.clone(),
        except: raised.except.clone(),
    };
    if raised.local {
        path.delivery.deliver(&target, &frame);
    } else {
        path.send(target, frame);
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
