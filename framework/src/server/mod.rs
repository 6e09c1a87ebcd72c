//! Building, mounting and running a Switchboard server.

mod client_js;
mod endpoint;
mod health;
#[cfg(feature = "http-api")]
mod http_api;
#[cfg(feature = "http-api")]
mod http_control;
mod initiator;
mod running;
mod streams;
mod takeover;

use std::sync::Arc;

use actix_web::web;

use crate::auth::{Chain, ClaimsResolver, ErasedResolver, UserResolver};
use crate::channel::Channels;
use crate::config::{ConfigError, Settings};
use crate::delivery::Delivery;
use crate::ids::{ConnectionIds, NodeId};
use crate::listener::{Connection, ConnectionHooks, Disconnection, States};
use crate::node::Node;
use crate::presence::LocalPresence;
use crate::registry::{Registry, RegistryError};
use crate::send::{
    Coalescer, Controls, Listens, SendPath, SocketServer, Streams, install_for_this_thread,
    install_global,
};
use crate::stats::Metrics;
use crate::stream::History;
use crate::transport::{self, ControlSink};

pub use running::Running;

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
    node: Arc<Node>,
}

/// Configures a [`Switchboard`] beyond its settings: `Switchboard::builder(settings)`.
pub struct SwitchboardBuilder {
    settings: Settings,
    resolver: Arc<dyn ErasedResolver>,
    states: States,
    hooks: ConnectionHooks,
    echo: bool,
    /// The in-process backplane to join instead of `[backplane]`'s.
    #[cfg(feature = "testing")]
    broker: Option<crate::testing::Broker>,
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

    /// Registers application state (a database pool, a cache, a client of another
    /// service): every hook and event that takes a [`State<T>`](crate::State) parameter
    /// gets it. A listener asking for a type that was not registered stops
    /// [`build`](Self::build) with an error naming the listener and the type.
    pub fn state<T: std::any::Any + Send + Sync>(self, value: T) -> Self {
        self.shared_state(Arc::new(value))
    }

    /// [`state`](Self::state) for a value already shared (`Arc<T>`, e.g. the same pool
    /// the app's own handlers use through `web::Data`).
    pub fn shared_state<T: std::any::Any + Send + Sync>(mut self, value: Arc<T>) -> Self {
        self.states.insert(value);
        self
    }

    /// Runs `hook` for every new connection, once it is open (after its handshake was
    /// accepted, while `ready` is on its way): to record it, to send it something. It
    /// runs on the connection's thread, beside the connection, not before it.
    ///
    /// ```no_run
    /// # fn demo(settings: switchboard::config::Settings) -> Result<(), switchboard::StartError> {
    /// let switchboard = switchboard::Switchboard::builder(settings)
    ///     .on_connect(|conn| async move {
    ///         tracing::info!(connection = %conn.id(), user = ?conn.user_id(), "connected");
    ///     })
    ///     .on_disconnect(|conn, ending| async move {
    ///         tracing::info!(connection = %conn.id(), code = ?ending.code(), "disconnected");
    ///     })
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_connect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Connection) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        self.hooks.set_on_connect(hook);
        self
    }

    /// Runs `hook` once a connection has ended, with how it ended
    /// ([`Disconnection::code`](crate::listener::Disconnection::code)); after the
    /// connection's `on_connect` has finished, and after the channels it was in have
    /// been told (`on_leave`).
    pub fn on_disconnect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Connection, Disconnection) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        self.hooks.set_on_disconnect(hook);
        self
    }

    /// Says what presence shows about a user beside their id (the `info` of
    /// `presence-join` and of each member in `presence-response`): a display name, an
    /// avatar. `resolve` gets the user model the user resolver made (`U`, e.g. your
    /// `User`; a connection whose user is of another type has no info), once per user
    /// and channel on each node, when their first connection there joins; `None` sends
    /// no `info`. Without it, members have no `info`.
    ///
    /// ```no_run
    /// # fn demo(settings: switchboard::config::Settings) -> Result<(), switchboard::StartError> {
    /// use switchboard::auth::ClaimsUser;
    /// let switchboard = switchboard::Switchboard::builder(settings)
    ///     .presence_info(|user: &ClaimsUser| {
    ///         let name = user.claims.get("name")?.as_str()?;
    ///         Some(serde_json::json!({ "name": name }))
    ///     })
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn presence_info<U, F>(mut self, resolve: F) -> Self
    where
        U: std::any::Any,
        F: Fn(&U) -> Option<serde_json::Value> + Send + Sync + 'static,
    {
        self.hooks.set_presence_info(resolve);
        self
    }

    /// Sessions echo every text and binary message and speak no protocol (no `ready`,
    /// no heartbeat packets); everything else (frames, fragments, UTF-8, limits, close
    /// handling) is unchanged. For running a WebSocket conformance suite (Autobahn)
    /// against the framework's own transport; not for applications.
    #[doc(hidden)]
    pub fn conformance_echo(mut self) -> Self {
        self.echo = true;
        self
    }

    /// Joins `broker`, an in-process backplane shared with other nodes of this process,
    /// instead of the one `[backplane]` configures (cargo feature `testing`; see
    /// [`Broker`](crate::testing::Broker)).
    #[cfg(feature = "testing")]
    pub fn backplane(mut self, broker: crate::testing::Broker) -> Self {
        self.broker = Some(broker);
        self
    }

    /// Validates the settings, builds the middleware and the routing table from every
    /// listener the binary registered, and makes the server the process-wide handle
    /// ([`sockets`](crate::sockets)).
    pub fn build(self) -> Result<Switchboard, StartError> {
        let settings = self.settings;
        settings.validate()?;
        check_features(&settings)?;
        let produced = self.resolver.user_type();
        let auth = Chain::build(&settings, self.resolver)?;
        let registry = Arc::new(Registry::from_inventory()?);
        registry.check_user_type(produced)?;
        registry.check_states(|id| self.states.contains(id))?;
        let metrics = Arc::new(Metrics::default());
        let channels = Channels::new(
            auth.middleware().into(),
            metrics.clone(),
            settings.limits.handler_timeout(),
            settings.limits.channel_queue,
        );
        let id = NodeId::random();
        let delivery = Delivery::new(&settings.limits, metrics);
        let controls = Arc::new(Controls::default());
        let control_sink: ControlSink = {
            let (controls, delivery) = (controls.clone(), delivery.clone());
            Arc::new(move |control| controls.apply(&control, delivery.index()))
        };
        let presence = Arc::new(LocalPresence::default());
        let lease = transport::PresenceLease {
            local: presence.clone(),
            lease: settings.presence.lease(),
        };
        let streams = Streams {
            specs: streams::specs(&registry, &settings)?,
            history: History::new(settings.history.max_bytes),
            user: streams::user_spec(&settings),
        };
        #[cfg(feature = "testing")]
        let backplane = match self.broker {
            Some(broker) => broker.join(
                &settings.backplane,
                id.clone(),
                delivery.clone(),
                control_sink,
                lease,
            )?,
            None => transport::from_settings(
                &settings.backplane,
                id.clone(),
                delivery.clone(),
                control_sink,
                lease,
            )?,
        };
        #[cfg(not(feature = "testing"))]
        let backplane = transport::from_settings(
            &settings.backplane,
            id.clone(),
            delivery.clone(),
            control_sink,
            lease,
        )?;
        let sends = SendPath {
            node: id.clone(),
            delivery,
            backplane,
            controls,
            streams,
            signals: Coalescer::new(settings.signals.coalesce()),
            presence,
            listens: {
                let registry = registry.clone();
                Listens(Arc::new(move |channel| registry.resolve(channel).is_some()))
            },
        };
        let mut node = Node::new(
            settings,
            ConnectionIds::new(id),
            registry,
            channels,
            auth,
            sends,
        );
        node.echo = self.echo;
        node.states = Arc::new(self.states);
        node.hooks = self.hooks;
        start_sources(&node)?;
        let switchboard = Switchboard {
            node: Arc::new(node),
        };
        install_global(switchboard.server());
        Ok(switchboard)
    }
}

/// Settings that ask for what this build left out (a cargo feature turned off) are
/// refused, naming the key and the feature, rather than silently doing nothing.
fn check_features(settings: &Settings) -> Result<(), ConfigError> {
    let redis = settings.backplane.kind == crate::config::BackplaneKind::Redis;
    let tls = redis && settings.backplane.url.expose().starts_with("rediss://");
    let wanted = [
        (redis, cfg!(feature = "redis"), "backplane.kind", "redis"),
        (
            tls,
            cfg!(feature = "redis-tls"),
            "backplane.url",
            "redis-tls",
        ),
        (
            settings.metrics.enabled,
            cfg!(feature = "metrics"),
            "metrics.enabled",
            "metrics",
        ),
        (
            settings.http_api.enabled,
            cfg!(feature = "http-api"),
            "http_api.enabled",
            "http-api",
        ),
        (
            !settings.postgres.url.is_empty(),
            cfg!(feature = "postgres"),
            "postgres.url",
            "postgres",
        ),
    ];
    match wanted
        .into_iter()
        .find(|(asked, built, _, _)| *asked && !built)
    {
        Some((_, _, key, feature)) => Err(ConfigError::missing_feature(key, feature)),
        None => Ok(()),
    }
}

/// Starts what signals from outside the application (`[postgres]` and `[[watch]]`;
/// a build without the source refused those settings in [`check_features`]).
fn start_sources(node: &Node) -> Result<(), ConfigError> {
    #[cfg(feature = "postgres")]
    {
        crate::source::postgres::start(&node.settings, node.sends.clone(), node.sends.node.clone())
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = node;
        Ok(())
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
            states: States::default(),
            hooks: ConnectionHooks::default(),
            echo: false,
            #[cfg(feature = "testing")]
            broker: None,
        }
    }

    /// The handle for sending from anywhere in the application.
    pub fn server(&self) -> SocketServer {
        self.node.server()
    }

    /// Graceful shutdown: refuse new upgrades, close every connection with 1001 after
    /// what is already queued for it, wait (at most `server.drain_secs`) for them to
    /// go, then leave the backplane (flushing what it still has to publish).
    pub async fn drain(&self) {
        let node = &self.node;
        if !node.start_draining() {
            return;
        }
        let deadline = std::time::Duration::from_secs(node.settings.server.drain_secs);
        let closing = crate::protocol::CloseCode::GoingAway.into();
        node.delivery().close_all(&closing);
        let index = node.delivery().index();
        let emptied = async {
            while index.stats().connections > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(deadline, emptied).await.is_err() {
            tracing::warn!(
                left = index.stats().connections,
                "drain period over with connections still open"
            );
        }
        node.backplane().close().await;
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.node.settings
    }

    /// Prepares each accepted TCP socket: the kernel then resets a connection whose peer
    /// stops reading for `limits.write_timeout_secs` (`TCP_USER_TIMEOUT`). Switchboard's
    /// own [`start`](Self::start) does not need it (it owns each WebSocket connection's
    /// socket and resets it itself); an app that builds its own `HttpServer` adds it
    /// there ([`tune`](Self::tune) does):
    ///
    /// ```no_run
    /// # use actix_web::{App, HttpServer};
    /// # async fn run(switchboard: switchboard::Switchboard) -> std::io::Result<()> {
    /// let on_connect = switchboard.on_connect();
    /// HttpServer::new(move || App::new().configure(switchboard.configure()))
    ///     .on_connect(on_connect)
    ///     .bind("127.0.0.1:8080")?
    ///     .run()
    ///     .await
    /// # }
    /// ```
    ///
    /// Without it a client that stops reading is still released on the server's side
    /// after the write timeout (its subscriptions, queue and cap slot), but its TCP
    /// connection stays open until the kernel's own retransmission limits give up.
    pub fn on_connect(
        &self,
    ) -> impl Fn(&dyn std::any::Any, &mut actix_web::dev::Extensions) + Clone + Send + Sync + 'static
    {
        let timeout = self.node.delivery().write_timeout();
        move |connection, _| crate::delivery::configure_accepted(connection, timeout)
    }

    /// Mounts the WebSocket endpoint at `settings.path` and the framework's other routes
    /// under `settings.routes_prefix` (the browser client, the HTTP API when enabled, and
    /// health and metrics unless `server.internal_bind` moves them to
    /// [`Self::configure_internal`]); nothing when `enabled = false`:
    /// `App::new().configure(switchboard.configure())`. Every other path is the app's.
    pub fn configure(&self) -> impl Fn(&mut web::ServiceConfig) + Clone + 'static {
        let node = self.node.clone();
        move |cfg: &mut web::ServiceConfig| {
            // Runs on each worker thread as it builds its App.
            install_for_this_thread(node.server());
            // Plain actix handlers can send too: `web::Data<SocketServer>`.
            cfg.app_data(web::Data::new(node.server()));
            endpoint::mount(cfg, node.clone());
        }
    }

    /// Mounts `PREFIX/healthz`, `PREFIX/readyz` and (when enabled) `PREFIX/metrics`,
    /// for an internal listener of the app's own when it sets `server.internal_bind`
    /// (the standalone server starts one by itself).
    pub fn configure_internal(&self) -> impl Fn(&mut web::ServiceConfig) + Clone + 'static {
        let node = self.node.clone();
        move |cfg: &mut web::ServiceConfig| health::mount(cfg, &node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run in both configurations: the default build (every feature) and the test
    /// command's `--no-default-features --features macros` build.
    #[test]
    fn settings_asking_for_a_feature_left_out_are_refused_naming_the_key() {
        /// The key, whether its feature is built, and the setting that asks for it.
        type Case = (&'static str, bool, fn(&mut Settings));
        let cases: [Case; 5] = [
            ("metrics.enabled", cfg!(feature = "metrics"), |s| {
                s.metrics.enabled = true
            }),
            ("http_api.enabled", cfg!(feature = "http-api"), |s| {
                s.http_api.enabled = true
            }),
            ("backplane.kind", cfg!(feature = "redis"), |s| {
                s.backplane.kind = crate::config::BackplaneKind::Redis;
            }),
            ("postgres.url", cfg!(feature = "postgres"), |s| {
                s.postgres.url = crate::config::Secret::new("postgres://db");
            }),
            // (Built without `redis` at all, the kind is refused first.)
            ("backplane.url", cfg!(feature = "redis-tls"), |s| {
                s.backplane.kind = crate::config::BackplaneKind::Redis;
                s.backplane.url = crate::config::Secret::new("rediss://cache:6380");
            }),
        ];
        for (key, built, ask) in cases {
            let mut settings = Settings::default();
            ask(&mut settings);
            match check_features(&settings) {
                Ok(()) => assert!(built, "{key} was accepted without its feature"),
                Err(e) => {
                    assert!(!built, "{key} was refused with its feature: {e}");
                    let redis_first = key == "backplane.url" && !cfg!(feature = "redis");
                    let expected = if redis_first { "backplane.kind" } else { key };
                    assert_eq!(e.key(), Some(expected));
                }
            }
        }
        assert!(check_features(&Settings::default()).is_ok());
    }
}
