//! The process-wide handle, for code that was not handed a [`SocketServer`].

use std::cell::RefCell;
use std::sync::{PoisonError, RwLock};

use super::{SendError, SocketServer};

static GLOBAL: RwLock<Option<SocketServer>> = RwLock::new(None);

thread_local! {
    /// The server whose worker thread this is: its sessions, channel actors and HTTP
    /// handlers run here, so their sends reach their own server even when one process
    /// runs several.
    static CURRENT: RefCell<Option<SocketServer>> = const { RefCell::new(None) };
}

/// The server handle for code that was not handed one: on a server's worker thread
/// (handlers, listeners, HTTP routes) that server; elsewhere (a background thread) the
/// most recently built [`Switchboard`](crate::Switchboard). Fails with
/// [`SendError::NotRunning`] before any is built.
pub fn sockets() -> Result<SocketServer, SendError> {
    CURRENT
        .with(|current| current.borrow().clone())
        .or_else(|| {
            GLOBAL
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        })
        .ok_or(SendError::NotRunning)
}

pub(crate) fn install_global(server: SocketServer) {
    *GLOBAL.write().unwrap_or_else(PoisonError::into_inner) = Some(server);
}

/// Called on each worker thread as it builds its `App`.
pub(crate) fn install_for_this_thread(server: SocketServer) {
    CURRENT.with(|current| *current.borrow_mut() = Some(server));
}
