//! Who calls the demo's HTTP routes: a signed-in user, with the same token the socket
//! takes (`Authorization: Bearer TOKEN`), or a backend holding the HTTP API key.
//!
//! Handlers ask for [`SignedIn`] or [`Caller`] as a parameter; a request without a
//! valid credential never reaches them and gets 401 with the reason, in the same JSON
//! shape as a refused handshake (the framework's [`Rejection`]).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use subtle::ConstantTimeEq;
use switchboard::auth::{JwtMiddleware, Rejection};

use crate::user::{User, user_from_claims};

/// Verifies the credentials of HTTP requests; registered as app data by [`crate::start`].
pub struct Credentials {
    jwt: JwtMiddleware,
    /// The HTTP API key, when that API is enabled with one.
    api_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Tokens verified by `jwt`; `api_key` also admits a backend.
    pub fn new(jwt: JwtMiddleware, api_key: Option<String>) -> Self {
        Self { jwt, api_key }
    }

    fn caller(&self, req: &HttpRequest) -> Result<Caller, Rejection> {
        let bearer = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(missing)?;
        if let Some(key) = &self.api_key
            && bool::from(bearer.as_bytes().ct_eq(key.as_bytes()))
        {
            return Ok(Caller::Backend);
        }
        let claims = self.jwt.verify(bearer)?;
        user_from_claims(&claims).map(Caller::User)
    }
}

/// Whoever sent the request: a user, or a backend with the HTTP API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A user, by their token.
    User(User),
    /// A backend, by the HTTP API key.
    Backend,
}

/// A request from a signed-in user (the API key is not a user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn(pub User);

fn missing() -> Rejection {
    Rejection::unauthorized(
        "unauthorised",
        "sign in first: send Authorization: Bearer TOKEN",
    )
}

fn caller_of(req: &HttpRequest) -> Result<Caller, Rejection> {
    match req.app_data::<web::Data<Credentials>>() {
        Some(credentials) => credentials.caller(req),
        None => {
            tracing::error!("Credentials are not registered: every caller is refused");
            Err(missing())
        }
    }
}

impl FromRequest for Caller {
    type Error = Rejection;
    type Future = Ready<Result<Self, Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller_of(req))
    }
}

impl FromRequest for SignedIn {
    type Error = Rejection;
    type Future = Ready<Result<Self, Rejection>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match caller_of(req) {
            Ok(Caller::User(user)) => Ok(Self(user)),
            Ok(Caller::Backend) => Err(Rejection::forbidden(
                "forbidden",
                "the API key is not a user: send a user's token",
            )),
            Err(refused) => Err(refused),
        })
    }
}
