//! The demo's HTTP API: dev tokens and notifications.

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{HttpResponse, web};
use jsonwebtoken::{EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard::SocketUser;
use switchboard::typescript::TS;

use switchboard::auth::Rejection;

use crate::auth::Caller;
use crate::user::User;

/// Issues HS256 tokens for `POST /api/token`.
#[derive(Clone)]
pub struct TokenIssuer {
    key: EncodingKey,
    ttl_secs: u64,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// Signs with `secret` (the same one the `jwt` middleware verifies with).
    pub fn new(secret: &str, ttl_secs: u64) -> Self {
        Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            ttl_secs,
        }
    }

    /// A token for `user`, valid for the configured lifetime.
    pub fn issue(&self, user: &User) -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims =
            json!({ "sub": user.id, "name": user.name, "iat": now, "exp": now + self.ttl_secs });
        jsonwebtoken::encode(&Header::default(), &claims, &self.key)
    }
}

/// Mounts `POST /api/notify/{user}`, and `POST /api/token` when `issuer` is given.
pub fn configure(cfg: &mut web::ServiceConfig, issuer: Option<TokenIssuer>) {
    if let Some(issuer) = issuer {
        cfg.app_data(web::Data::new(issuer))
            .route("/api/token", web::post().to(token));
    }
    cfg.route("/api/notify/{user}", web::post().to(notify));
}

fn bad_request(code: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": { "code": code, "message": message } }))
}

#[derive(Deserialize)]
struct TokenRequest {
    name: String,
}

/// A user name becomes the user id: 1 to 32 letters, digits, `_` or `-`, so it can
/// stand in a channel name such as `user:chat.{id}`.
pub(crate) fn user_for(name: &str) -> Option<User> {
    let name = name.trim();
    let valid = (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then(|| User {
        id: name.to_ascii_lowercase(),
        name: name.to_owned(),
    })
}

async fn token(issuer: web::Data<TokenIssuer>, body: web::Json<TokenRequest>) -> HttpResponse {
    let Some(user) = user_for(&body.name) else {
        return bad_request(
            "bad_name",
            "`name` must be 1 to 32 letters, digits, underscores or dashes",
        );
    };
    match issuer.issue(&user) {
        Ok(token) => HttpResponse::Ok().json(json!({
            "token": token,
            "user": user,
            "expires_in": issuer.ttl_secs,
        })),
        Err(e) => {
            tracing::error!(error = %e, "could not sign a dev token");
            HttpResponse::InternalServerError().json(
                json!({ "error": { "code": "internal", "message": "could not sign a token" } }),
            )
        }
    }
}

/// A toast: what `POST /api/notify/{user}` takes, and what the user's connections then
/// receive as the direct event `notification`.
#[derive(Debug, Deserialize, Serialize, TS)]
#[ts(crate = "switchboard::typescript::ts_rs")]
pub struct Notification {
    /// The text shown.
    pub message: String,
}

switchboard::direct_events! {
    "notification" => Notification,
}

/// Sends a `notification` to every connection of the user: their phone and laptop alike.
/// A backend (with the HTTP API key) may notify anyone; a user, only themselves.
async fn notify(
    caller: Caller,
    path: web::Path<String>,
    body: web::Json<Notification>,
) -> Result<HttpResponse, Rejection> {
    let Some(user) = user_for(&path) else {
        return Ok(bad_request("bad_user", "unknown user id"));
    };
    if let Caller::User(me) = &caller
        && me.id != user.id
    {
        return Err(Rejection::forbidden(
            "forbidden",
            format!(
                "a user may notify only themselves; notifying {} takes the HTTP API key",
                user.id
            ),
        ));
    }
    Ok(match user.send_socket_event("notification", &*body) {
        Ok(delivered) => HttpResponse::Ok().json(json!({ "delivered": delivered })),
        Err(e) => HttpResponse::ServiceUnavailable()
            .json(json!({ "error": { "code": "unavailable", "message": e.to_string() } })),
    })
}
