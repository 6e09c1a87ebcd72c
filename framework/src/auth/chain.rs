use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderValue};

use super::{ErasedResolver, Handshake, Middleware, MiddlewareRegistration, Rejection};
use crate::config::{ConfigError, Settings};
use crate::listener::SessionUser;

/// What a successful handshake established.
#[derive(Debug, Default)]
pub(crate) struct Authenticated {
    pub(crate) user: Option<SessionUser>,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) subprotocol: Option<String>,
    /// What a token refresh shows the chain again of the original request.
    pub(crate) origin: RequestOrigin,
}

/// The parts of the upgrade request that stay true for the whole connection, kept so
/// a token refresh runs the chain on a request that differs only in its token.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestOrigin {
    origin: Option<HeaderValue>,
    peer: Option<std::net::SocketAddr>,
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
            origin: RequestOrigin {
                origin: request.headers().get(header::ORIGIN).cloned(),
                peer: request.peer_addr(),
            },
        })
    }

    /// Runs the handshake chain again for an in-band token refresh, on a request
    /// carrying `token` as `Authorization: Bearer` with the original `Origin` and peer
    /// address: every middleware judges the new token exactly as it would at a
    /// handshake.
    pub(crate) async fn refresh(
        &self,
        token: &str,
        path: &str,
        origin: &RequestOrigin,
    ) -> Result<Authenticated, Rejection> {
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            Rejection::unauthorized("malformed_token", "the token holds characters no token has")
        })?;
        let mut request = actix_web::test::TestRequest::get()
            .uri(path)
            .insert_header((header::AUTHORIZATION, bearer));
        if let Some(value) = &origin.origin {
            request = request.insert_header((header::ORIGIN, value.clone()));
        }
        if let Some(peer) = origin.peer {
            request = request.peer_addr(peer);
        }
        self.handshake(&request.to_http_request()).await
    }

    /// The global middleware, to run again on subscribe.
    pub(crate) fn middleware(&self) -> &[Arc<dyn Middleware>] {
        &self.middleware
    }
}

fn invalid(message: String) -> ConfigError {
    ConfigError::setting("middleware", message)
}
