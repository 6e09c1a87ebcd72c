//! Building, mounting and running a Switchboard server.

mod endpoint;
mod handle;
mod running;

use std::sync::Arc;

use actix_web::web;

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
    pub(crate) index: Index,
    pub(crate) registry: Registry,
    pub(crate) channels: Channels,
}

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The settings are invalid.
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

impl Switchboard {
    /// Validates `settings`, builds the routing table from every listener the binary
    /// registered, and prepares the server state.
    pub fn new(settings: Settings) -> Result<Self, StartError> {
        settings.validate()?;
        let core = Core {
            settings,
            ids: ConnectionIds::new(NodeId::random()),
            index: Index::default(),
            registry: Registry::from_inventory()?,
            channels: Channels::default(),
        };
        Ok(Self {
            core: Arc::new(core),
        })
    }

    /// The handle for sending from anywhere in the application.
    pub fn server(&self) -> SocketServer {
        SocketServer::new(self.core.clone())
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }

    /// Mounts the WebSocket endpoint at `settings.path` (nothing when `enabled = false`):
    /// `App::new().configure(switchboard.configure())`.
    pub fn configure(&self) -> impl Fn(&mut web::ServiceConfig) + Clone + 'static {
        let core = self.core.clone();
        move |cfg: &mut web::ServiceConfig| endpoint::mount(cfg, core.clone())
    }
}
