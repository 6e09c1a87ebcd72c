use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::HttpRequest;

use super::{ErasedResolver, Handshake, Middleware, MiddlewareRegistration, Rejection};
use crate::config::{ConfigError, Settings};
use crate::listener::SessionUser;

/// What a successful handshake established.
#[derive(Debug, Default)]
pub(crate) struct Authenticated {
    pub(crate) user: Option<SessionUser>,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) subprotocol: Option<String>,
}

/// The global middleware, in configured order, and the user resolver.
pub(crate) struct Chain {
    middleware: Vec<Arc<dyn Middleware>>,
    resolver: Arc<dyn ErasedResolver>,
    allow_anonymous: bool,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("middleware", &self.middleware.len())
            .field("allow_anonymous", &self.allow_anonymous)
            .finish_non_exhaustive()
    }
}

impl Chain {
    /// Builds the middleware `settings.middleware` names, from every registration in the binary.
    pub(crate) fn build(
        settings: &Settings,
        resolver: Arc<dyn ErasedResolver>,
    ) -> Result<Self, ConfigError> {
        let mut registered: HashMap<&str, &MiddlewareRegistration> = HashMap::new();
        for registration in inventory::iter::<MiddlewareRegistration>() {
            if registered.insert(registration.name, registration).is_some() {
                return Err(invalid(format!(
                    "two middleware are registered as `{}`",
                    registration.name
                )));
            }
        }
        let middleware = settings
            .middleware
            .iter()
            .map(|name| {
                let registration = registered.get(name.as_str()).ok_or_else(|| {
                    let mut known: Vec<_> = registered.keys().copied().collect();
                    known.sort_unstable();
                    invalid(format!(
                        "unknown middleware `{name}`; registered: {}",
                        known.join(", ")
                    ))
                })?;
                (registration.build)(settings)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            middleware,
            resolver,
            allow_anonymous: settings.auth.allow_anonymous,
        })
    }

    /// Runs every middleware on the handshake, then resolves the user.
    pub(crate) async fn handshake(
        &self,
        request: &HttpRequest,
    ) -> Result<Authenticated, Rejection> {
        let mut handshake = Handshake::new(request);
        for middleware in &self.middleware {
            middleware.handshake(&mut handshake).await?;
        }
        let user = match (handshake.user.take(), &handshake.claims) {
            (Some(user), _) => Some(user),
            (None, Some(claims)) => Some(self.resolver.resolve(claims).await?),
            (None, None) if self.allow_anonymous => None,
            (None, None) => {
                return Err(Rejection::unauthorized(
                    "missing_token",
                    "authentication required: send ?token=JWT, an Authorization: Bearer header, or the token as Sec-WebSocket-Protocol",
                ));
            }
        };
        Ok(Authenticated {
            user,
            expires_at: handshake.expires_at,
            subprotocol: handshake.subprotocol,
        })
    }

    /// The global middleware, to run again on subscribe.
    pub(crate) fn middleware(&self) -> &[Arc<dyn Middleware>] {
        &self.middleware
    }
}

fn invalid(message: String) -> ConfigError {
    ConfigError::Invalid {
        origin: "settings".to_owned(),
        key: "middleware".to_owned(),
        message,
    }
}
