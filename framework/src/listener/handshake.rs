use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};

use super::SessionUser;

/// Verified token claims.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Claims(Map<String, Value>);

impl Claims {
    /// Claims from a JSON object.
    pub fn new(claims: Map<String, Value>) -> Self {
        Self(claims)
    }

    /// The `sub` claim as text (a numeric `sub` is accepted too).
    pub fn subject(&self) -> Option<String> {
        match self.0.get("sub")? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Any claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// When the token expires (`exp`, whole or fractional seconds), if it says.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let exp = self.0.get("exp")?.as_f64()?;
        let exp = Duration::try_from_secs_f64(exp).ok()?; // negative, NaN, huge: no expiry
        UNIX_EPOCH.checked_add(exp)
    }

    /// All claims.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// A refused handshake: the HTTP status and a JSON body
/// `{"error": {"code": "...", "message": "..."}}`. No socket is opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct Rejection {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Rejection {
    /// 401, for missing or bad credentials.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403, for a request that is understood but not allowed (e.g. its origin).
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// Any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable reason, e.g. `expired_token`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human-readable reason.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn into_response(self) -> HttpResponse {
        actix_web::ResponseError::error_response(&self)
    }
}

/// So an application's own routes can refuse with the same status and JSON body the
/// handshake uses (e.g. as the error of an extractor).
impl actix_web::ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .json(json!({ "error": { "code": self.code, "message": self.message } }))
    }
}

/// What middleware sees and decides during one WebSocket handshake.
#[derive(Debug)]
pub struct Handshake<'r> {
    request: &'r HttpRequest,
    pub(crate) claims: Option<Claims>,
    pub(crate) user: Option<SessionUser>,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) subprotocol: Option<String>,
}

impl<'r> Handshake<'r> {
    pub(crate) fn new(request: &'r HttpRequest) -> Self {
        Self {
            request,
            claims: None,
            user: None,
            expires_at: None,
            subprotocol: None,
        }
    }

    /// The upgrade request: headers, query, peer address.
    pub fn request(&self) -> &HttpRequest {
        self.request
    }

    /// Verified claims; the user resolver turns them into the user after the chain.
    /// The connection is closed with 4001 when `exp` passes.
    pub fn set_claims(&mut self, claims: Claims) {
        self.expires_at = claims.expires_at();
        self.claims = Some(claims);
    }

    /// The claims verified so far, if any.
    pub fn claims(&self) -> Option<&Claims> {
        self.claims.as_ref()
    }

    /// Authenticates the connection directly as `user` with id `id`.
    pub fn set_user<U: Any + Send + Sync>(&mut self, id: impl Into<String>, user: U) {
        self.user = Some(SessionUser {
            id: Arc::from(id.into()),
            model: Arc::new(user),
        });
    }

    /// Answers the handshake selecting this `Sec-WebSocket-Protocol` value (browsers
    /// abort a handshake whose offered protocol is not echoed).
    pub fn select_subprotocol(&mut self, protocol: impl Into<String>) {
        self.subprotocol = Some(protocol.into());
    }
}
