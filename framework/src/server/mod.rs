//! Building, mounting and running a Switchboard server.

mod client_js;
mod endpoint;
mod handle;
mod http_api;
mod running;

use std::sync::Arc;

use actix_web::web;

use crate::auth::{
    Chain, ClaimsResolver, ErasedResolver, UserResolver, install_for_this_thread, install_global,
};
use crate::backplane::{self, Backplane};
use crate::channel::Channels;
use crate::config::{ConfigError, Settings};
use crate::ids::{ConnectionIds, NodeId};
use crate::index::Index;
use crate::registry::{Registry, RegistryError};

pub use handle::{SendError, SocketServer};
pub use running::Running;

/// What every session and the server handle share on one node.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) settings: Settings,
    pub(crate) ids: ConnectionIds,
    pub(crate) index: Arc<Index>,
    pub(crate) backplane: Box<dyn Backplane>,
    pub(crate) registry: Registry,
    pub(crate) channels: Channels,
    pub(crate) auth: Chain,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    /// Set when a graceful shutdown begins: new upgrades are refused.
    pub(crate) draining: std::sync::atomic::AtomicBool,
}

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The settings are invalid, or name a middleware that cannot be built.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The registered listeners cannot serve together.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// A configured server: mount it in your own actix-web `App`, or run it standalone.
///
/// ```no_run
/// use actix_web::{App, HttpServer};
/// use switchboard::{Switchboard, config::Settings};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let switchboard = Switchboard::new(Settings::load("config/Websockets.toml")?)?;
/// let sockets = switchboard.server(); // send to channels, users, connections from anywhere
/// HttpServer::new(move || App::new().configure(switchboard.configure()))
///     .bind("127.0.0.1:8080")?
///     .run()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Switchboard {
    core: Arc<Core>,
}

/// Configures a [`Switchboard`] beyond its settings: `Switchboard::builder(settings)`.
pub struct SwitchboardBuilder {
    settings: Settings,
    resolver: Arc<dyn ErasedResolver>,
}

impl std::fmt::Debug for SwitchboardBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchboardBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl SwitchboardBuilder {
    /// Turns verified token claims into the application's user type (by default a
    /// [`ClaimsUser`](crate::auth::ClaimsUser)).
    pub fn resolve_users<R: UserResolver>(mut self, resolver: R) -> Self {
        self.resolver = Arc::new(resolver);
        self
    }

    /// Validates the settings, builds the middleware and the routing table from every
    /// listener the binary registered, and makes the server the process-wide handle
    /// ([`sockets`](crate::sockets)).
    pub fn build(self) -> Result<Switchboard, StartError> {
        let settings = self.settings;
        settings.validate()?;
        let produced = self.resolver.user_type();
        let auth = Chain::build(&settings, self.resolver)?;
        let registry = Registry::from_inventory()?;
        registry.check_user_type(produced)?;
        let channels = Channels::new(auth.middleware().into());
        let node = NodeId::random();
        let index = Arc::new(Index::default());
        let backplane = backplane::from_settings(&settings.backplane, node.clone(), index.clone())?;
        let core = Core {
            ids: ConnectionIds::new(node),
            index,
            backplane,
            registry,
            channels,
            auth,
            settings,
            draining: std::sync::atomic::AtomicBool::new(false),
            metrics: Arc::default(),
        };
        let switchboard = Switchboard {
            core: Arc::new(core),
        };
        install_global(switchboard.server());
        Ok(switchboard)
    }
}

impl Switchboard {
    /// A server with the default user resolver: `Switchboard::builder(settings).build()`.
    pub fn new(settings: Settings) -> Result<Self, StartError> {
        Self::builder(settings).build()
    }

    /// Starts configuring a server.
    pub fn builder(settings: Settings) -> SwitchboardBuilder {
        SwitchboardBuilder {
            settings,
            resolver: Arc::new(ClaimsResolver),
        }
    }

    /// The handle for sending from anywhere in the application.
    pub fn server(&self) -> SocketServer {
        SocketServer::new(self.core.clone())
    }

    /// Graceful shutdown: refuse new upgrades, close every connection with 1001 after
    /// what is already queued for it, wait (at most `server.drain_secs`) for them to
    /// go, then leave the backplane (flushing what it still has to publish).
    pub async fn drain(&self) {
        use std::sync::atomic::Ordering;
        if self.core.draining.swap(true, Ordering::SeqCst) {
            return;
        }
        let deadline = std::time::Duration::from_secs(self.core.settings.server.drain_secs);
        let closing = crate::protocol::CloseCode::GoingAway.into();
        self.core.index.close_all(&closing);
        let emptied = async {
            while self.core.index.stats().connections > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(deadline, emptied).await.is_err() {
            tracing::warn!(
                left = self.core.index.stats().connections,
                "drain period over with connections still open"
            );
        }
        self.core.backplane.close().await;
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }

    /// Mounts the WebSocket endpoint at `settings.path` (nothing when `enabled = false`):
    /// `App::new().configure(switchboard.configure())`.
    pub fn configure(&self) -> impl Fn(&mut web::ServiceConfig) + Clone + 'static {
        let core = self.core.clone();
        move |cfg: &mut web::ServiceConfig| {
            // Runs on each worker thread as it builds its App.
            install_for_this_thread(SocketServer::new(core.clone()));
            endpoint::mount(cfg, core.clone());
        }
    }
}
