//! Running Switchboard as its own HTTP server.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer};

use super::{SocketServer, Switchboard};

/// Seconds a stopping server waits for open connections before closing them.
const SHUTDOWN_TIMEOUT_SECS: u64 = 5;

/// A server started with [`Switchboard::start`].
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    handle: ServerHandle,
    switchboard: Switchboard,
    server: SocketServer,
    path: String,
    done: tokio::task::JoinHandle<io::Result<()>>,
}

impl Switchboard {
    /// Binds `settings.server.bind` and serves until the process is stopped.
    pub async fn run(self) -> io::Result<()> {
        let bind = self.settings().server.bind.clone();
        let running = self.start(&bind)?;
        tracing::info!(
            "switchboard listening on {} (websocket endpoint ws://{}{})",
            running.addr,
            running.addr,
            running.path
        );
        running.run_until_signal().await
    }

    /// Binds `addr` (`"127.0.0.1:0"` picks a free port) and serves in the background.
    /// Must be called within an actix runtime (`#[actix_web::main]`, `#[actix_web::test]`).
    pub fn start(self, addr: &str) -> io::Result<Running> {
        self.start_with(addr, |_| {})
    }

    /// Like [`Self::start`], with extra routes or middleware for the app beside the
    /// WebSocket endpoint (`extra` runs once per worker).
    pub fn start_with<F>(self, addr: &str, extra: F) -> io::Result<Running>
    where
        F: Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
    {
        let settings = self.settings().server.clone();
        let limits = self.settings().limits.clone();
        let configure = self.configure();
        let mut http = HttpServer::new(move || {
            App::new()
                .configure(configure.clone())
                .configure(extra.clone())
        })
        .backlog(settings.backlog)
        // A client that opens a connection but never finishes its request head is dropped.
        .client_request_timeout(Duration::from_secs(limits.handshake_timeout_secs))
        // Small frames must leave at once: with Nagle's algorithm a frame written while
        // the previous one is unacknowledged waits for the client's (delayed) ACK.
        .tcp_nodelay(true)
        // The kernel resets clients that stop reading (write timeout).
        .on_connect(self.on_connect())
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .disable_signals();
        if settings.workers > 0 {
            http = http.workers(settings.workers);
        }
        let http = http.bind(addr)?;
        let bound = http.addrs().first().copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("bound no address for {addr}"),
            )
        })?;
        let http = http.run();
        let handle = http.handle();
        Ok(Running {
            addr: bound,
            handle,
            server: self.server(),
            path: self.settings().path.clone(),
            switchboard: self,
            done: tokio::task::spawn_local(http),
        })
    }
}

impl Running {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://ADDR/PATH`, the URL clients connect to.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.addr, self.path)
    }

    /// The handle for sending from anywhere.
    pub fn server(&self) -> &SocketServer {
        &self.server
    }

    /// Stops accepting and closes open connections, waiting at most a few seconds.
    pub async fn stop(self) {
        self.handle.stop(false).await;
        let _ = tokio::time::timeout(Duration::from_secs(SHUTDOWN_TIMEOUT_SECS), self.done).await;
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: stops accepting,
    /// closes every connection with 1001 (after what is queued for it), waits at most
    /// `server.drain_secs`, leaves the backplane and stops.
    pub async fn run_until_signal(mut self) -> io::Result<()> {
        tokio::select! {
            served = &mut self.done => return served.map_err(io::Error::other)?,
            () = shutdown_signal() => {}
        }
        tracing::info!("shutting down: closing connections with 1001");
        self.shutdown().await;
        Ok(())
    }

    /// The graceful shutdown [`Self::run_until_signal`] performs on a signal.
    pub async fn shutdown(self) {
        self.handle.pause().await;
        self.switchboard.drain().await;
        self.handle.stop(true).await;
        let _ = tokio::time::timeout(Duration::from_secs(SHUTDOWN_TIMEOUT_SECS), self.done).await;
    }

    /// Serves until the server stops.
    pub async fn wait(self) -> io::Result<()> {
        self.done.await.map_err(io::Error::other)?
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
