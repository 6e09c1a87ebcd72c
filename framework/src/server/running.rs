//! Running Switchboard as its own HTTP server.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use actix_http::{HttpService, Request};
use actix_service::{IntoServiceFactory, fn_service, map_config};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Server, ServerHandle, ServiceFactory};
use actix_web::{App, Error, HttpServer};

use super::{SocketServer, Switchboard};

/// Seconds a stopping server waits for open connections before closing them.
const SHUTDOWN_TIMEOUT_SECS: u64 = 5;

/// A server started with [`Switchboard::start`] or [`Switchboard::serve`].
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    handle: ServerHandle,
    switchboard: Switchboard,
    server: SocketServer,
    path: String,
    done: tokio::task::JoinHandle<io::Result<()>>,
    /// The `server.internal_bind` listener (health, readiness, metrics), when set.
    internal: Option<Internal>,
}

#[derive(Debug)]
struct Internal {
    addr: SocketAddr,
    handle: ServerHandle,
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
    ///
    /// This server takes each WebSocket connection over from actix's HTTP/1 dispatcher
    /// once its handshake is accepted (see `server/takeover.rs`): a connection costs
    /// about a third of the memory and each delivery less CPU than the same endpoint
    /// mounted in an app's own `HttpServer` ([`Self::configure`]). Every request that
    /// asks for an upgrade is served by Switchboard, so `extra` cannot add WebSocket
    /// routes of its own (they are answered 404); its other routes behave as usual.
    pub fn start_with<F>(self, addr: &str, extra: F) -> io::Result<Running>
    where
        F: Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
    {
        let settings = &self.settings().server;
        let limits = &self.settings().limits;
        let listener = listen(addr, settings.backlog)?;
        let bound = listener.local_addr()?;
        // A client that opens a connection but never finishes its request head is dropped.
        let head_timeout = Duration::from_secs(limits.handshake_timeout_secs);
        let configure = self.configure();
        let node = self.node.clone();
        let mut builder = Server::build()
            .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
            .disable_signals();
        if settings.workers > 0 {
            builder = builder.workers(settings.workers);
        }
        let server = builder
            .listen("switchboard", listener, move || {
                let app = App::new()
                    .configure(configure.clone())
                    .configure(extra.clone());
                let node = node.clone();
                HttpService::build()
                    .client_request_timeout(head_timeout)
                    // Small frames must leave at once: with Nagle's algorithm a frame
                    // written while the previous one is unacknowledged waits for the
                    // client's (delayed) ACK.
                    .tcp_nodelay(true)
                    .local_addr(bound)
                    .upgrade(fn_service(move |upgrade| {
                        super::takeover::take_over(node.clone(), upgrade)
                    }))
                    .finish(map_config(app, |_| AppConfig::default()))
                    .tcp()
            })?
            .run();
        self.running(bound, server)
    }

    /// Gives an app's own `HttpServer` what Switchboard's standalone server has: the
    /// listen backlog (`server.backlog`), worker count (`server.workers`), a timeout for
    /// request heads (`limits.handshake_timeout_secs`), `TCP_NODELAY`, the kernel's
    /// write timeout for clients that stop reading ([`Self::on_connect`]), and signal
    /// handling left to [`Running::run_until_signal`], which drains. Call it before
    /// `bind`; then hand the bound server to [`Self::serve`]:
    ///
    /// ```no_run
    /// # use actix_web::{App, HttpServer, web};
    /// # async fn run(switchboard: switchboard::Switchboard) -> std::io::Result<()> {
    /// let routes = switchboard.configure();
    /// let http = switchboard.tune(HttpServer::new(move || {
    ///     App::new()
    ///         .configure(routes.clone())
    ///         .route("/", web::get().to(|| async { "the app's own page" }))
    /// }));
    /// switchboard.serve(http.bind("0.0.0.0:8080")?)?.run_until_signal().await
    /// # }
    /// ```
    pub fn tune<F, I, S, B>(&self, http: HttpServer<F, I, S, B>) -> HttpServer<F, I, S, B>
    where
        F: Fn() -> I + Send + Clone + 'static,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<Error> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<actix_web::dev::Response<B>> + 'static,
        <S::Service as actix_service::Service<Request>>::Future: 'static,
        S::Service: 'static,
        B: MessageBody + 'static,
    {
        let settings = &self.settings().server;
        let limits = &self.settings().limits;
        let http = http
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
            http.workers(settings.workers)
        } else {
            http
        }
    }

    /// Runs an app's bound `HttpServer` (best [`tune`](Self::tune)d) in the background,
    /// with the `server.internal_bind` listener when set; the returned [`Running`]
    /// serves until a signal and then drains ([`Running::run_until_signal`]).
    pub fn serve<F, I, S, B>(self, http: HttpServer<F, I, S, B>) -> io::Result<Running>
    where
        F: Fn() -> I + Send + Clone + 'static,
        I: IntoServiceFactory<S, Request>,
        S: ServiceFactory<Request, Config = AppConfig> + 'static,
        S::Error: Into<Error> + 'static,
        S::InitError: fmt::Debug,
        S::Response: Into<actix_web::dev::Response<B>> + 'static,
        <S::Service as actix_service::Service<Request>>::Future: 'static,
        S::Service: 'static,
        B: MessageBody + 'static,
    {
        let bound = http.addrs().first().copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                "the server is bound to no address",
            )
        })?;
        self.running(bound, http.run())
    }

    /// Runs `http` in the background, with the internal listener when configured.
    fn running(self, bound: SocketAddr, http: Server) -> io::Result<Running> {
        let internal = self.start_internal()?;
        let handle = http.handle();
        Ok(Running {
            addr: bound,
            handle,
            server: self.server(),
            path: self.settings().path.clone(),
            switchboard: self,
            done: tokio::task::spawn_local(http),
            internal,
        })
    }

    /// The `server.internal_bind` listener: one worker, health, readiness and metrics.
    fn start_internal(&self) -> io::Result<Option<Internal>> {
        let addr = &self.settings().server.internal_bind;
        if addr.is_empty() {
            return Ok(None);
        }
        let routes = self.configure_internal();
        let http = HttpServer::new(move || App::new().configure(routes.clone()))
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .bind(addr)?;
        let bound = http.addrs().first().copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("bound no address for {addr}"),
            )
        })?;
        let server: Server = http.run();
        let handle = server.handle();
        tokio::task::spawn_local(server);
        Ok(Some(Internal {
            addr: bound,
            handle,
        }))
    }
}

impl Running {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `server.internal_bind` listener's address, when there is one.
    pub fn internal_addr(&self) -> Option<SocketAddr> {
        self.internal.as_ref().map(|i| i.addr)
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
        if let Some(internal) = self.internal {
            internal.handle.stop(false).await;
        }
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
        // Last: readiness said "draining" to the load balancer until the end.
        if let Some(internal) = self.internal {
            internal.handle.stop(true).await;
        }
    }

    /// Serves until the server stops.
    pub async fn wait(self) -> io::Result<()> {
        self.done.await.map_err(io::Error::other)?
    }
}

/// A listening socket on `addr` with the given backlog (what `HttpServer::bind` does).
fn listen(addr: &str, backlog: u32) -> io::Result<std::net::TcpListener> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        match listen_on(addr, backlog) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{addr} resolves to no address"),
        )
    }))
}

fn listen_on(addr: SocketAddr, backlog: u32) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
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
