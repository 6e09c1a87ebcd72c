//! The built-in `jwt` middleware, on `jsonwebtoken`.
//!
//! What it validates, so nothing is left to library defaults:
//! - the signature, with exactly the configured algorithm (an HS token against an RS
//!   key, or `alg: none`, is refused);
//! - `exp` (required unless `jwt.require_exp = false`) and `nbf`, with `jwt.leeway_secs`;
//! - `iss` and `aud` when configured (then also required);
//! - the token's length, before decoding (`jwt.max_token_bytes`).
//!
//! The token is read from, first match wins: the `token` query parameter (Envuso's
//! first client), `Authorization: Bearer`, or `Sec-WebSocket-Protocol` when that is
//! the only value offered (Envuso's 1.0 client), which is then echoed back.

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::{BoxFuture, Claims, Handshake, Middleware, Rejection};
use crate::config::{ConfigError, JwtAlgorithm, JwtSettings, Settings};

/// Shortest HMAC secret accepted: HS256 is only as strong as its key.
const MIN_SECRET_BYTES: usize = 32;

/// Verifies a JWT on the handshake and attaches its claims.
pub struct JwtMiddleware {
    key: DecodingKey,
    validation: Validation,
    max_token_bytes: usize,
}

impl std::fmt::Debug for JwtMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("JwtMiddleware")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::setting(key, message)
}

impl JwtMiddleware {
    /// Builds the verifier from `[jwt]`, refusing unusable keys with the key named.
    pub fn from_settings(settings: &JwtSettings) -> Result<Self, ConfigError> {
        let algorithm = match settings.algorithm {
            JwtAlgorithm::HS256 => Algorithm::HS256,
            JwtAlgorithm::HS384 => Algorithm::HS384,
            JwtAlgorithm::HS512 => Algorithm::HS512,
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::ES256 => Algorithm::ES256,
        };
        let key = if settings.algorithm.is_hmac() {
            let secret = settings.secret.expose();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(invalid(
                    "jwt.secret",
                    format!(
                        "{} requires a secret of at least {MIN_SECRET_BYTES} bytes (got {}); set SWITCHBOARD__JWT__SECRET",
                        algorithm_name(settings.algorithm),
                        secret.len()
                    ),
                ));
            }
            DecodingKey::from_secret(secret.as_bytes())
        } else {
            let pem = public_key_pem(settings)?;
            let parsed = match settings.algorithm {
                JwtAlgorithm::RS256 => DecodingKey::from_rsa_pem(pem.as_bytes()),
                _ => DecodingKey::from_ec_pem(pem.as_bytes()),
            };
            parsed.map_err(|e| {
                invalid(
                    "jwt.public_key",
                    format!(
                        "not a {} PEM public key: {e}",
                        algorithm_name(settings.algorithm)
                    ),
                )
            })?
        };

        let mut validation = Validation::new(algorithm);
        validation.leeway = settings.leeway_secs;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = Vec::new();
        if settings.require_exp {
            required.push("exp");
        }
        if settings.issuer.is_empty() {
            validation.iss = None;
        } else {
            validation.set_issuer(&[settings.issuer.as_str()]);
            required.push("iss");
        }
        if settings.audience.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&[settings.audience.as_str()]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        Ok(Self {
            key,
            validation,
            max_token_bytes: settings.max_token_bytes,
        })
    }

    /// Verifies one token.
    pub fn verify(&self, token: &str) -> Result<Claims, Rejection> {
        if token.len() > self.max_token_bytes {
            return Err(Rejection::unauthorized(
                "token_too_large",
                format!(
                    "token is {} bytes; at most {} are accepted",
                    token.len(),
                    self.max_token_bytes
                ),
            ));
        }
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)
            .map(|data| Claims::new(data.claims))
            .map_err(|e| refusal(e.kind()))
    }
}

fn algorithm_name(algorithm: JwtAlgorithm) -> &'static str {
    match algorithm {
        JwtAlgorithm::HS256 => "HS256",
        JwtAlgorithm::HS384 => "HS384",
        JwtAlgorithm::HS512 => "HS512",
        JwtAlgorithm::RS256 => "RS256",
        JwtAlgorithm::ES256 => "ES256",
    }
}

fn public_key_pem(settings: &JwtSettings) -> Result<String, ConfigError> {
    if !settings.public_key.is_empty() {
        return Ok(settings.public_key.expose().to_owned());
    }
    if settings.public_key_file.is_empty() {
        return Err(invalid(
            "jwt.public_key",
            format!(
                "{} needs a public key: set jwt.public_key_file or SWITCHBOARD__JWT__PUBLIC_KEY",
                algorithm_name(settings.algorithm)
            ),
        ));
    }
    std::fs::read_to_string(&settings.public_key_file).map_err(|e| {
        invalid(
            "jwt.public_key_file",
            format!("cannot read {}: {e}", settings.public_key_file),
        )
    })
}

/// Maps each verification failure to a stable code and a reason a developer can act on.
fn refusal(kind: &ErrorKind) -> Rejection {
    let (code, message) = match kind {
        ErrorKind::ExpiredSignature => ("expired_token", "token has expired".to_owned()),
        ErrorKind::ImmatureSignature => (
            "token_not_yet_valid",
            "token is not valid yet (nbf)".to_owned(),
        ),
        ErrorKind::InvalidSignature => (
            "invalid_signature",
            "token signature does not verify".to_owned(),
        ),
        ErrorKind::InvalidAlgorithm => (
            "invalid_algorithm",
            "token is signed with an algorithm this server does not accept".to_owned(),
        ),
        ErrorKind::InvalidIssuer => ("invalid_issuer", "token issuer is not accepted".to_owned()),
        ErrorKind::InvalidAudience => (
            "invalid_audience",
            "token audience is not accepted".to_owned(),
        ),
        ErrorKind::MissingRequiredClaim(claim) => {
            ("missing_claim", format!("token has no `{claim}` claim"))
        }
        ErrorKind::InvalidClaimFormat(claim) => (
            "malformed_token",
            format!("token claim `{claim}` has the wrong type"),
        ),
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => (
            "malformed_token",
            "token is not a well-formed JWT".to_owned(),
        ),
        _ => ("invalid_token", "token is not accepted".to_owned()),
    };
    Rejection::unauthorized(code, message)
}

/// Where a token came from.
enum Carrier {
    Query,
    Bearer,
    Subprotocol,
}

fn find_token(request: &HttpRequest) -> Option<(String, Carrier)> {
    let from_query = request.query_string().split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "token" && !value.is_empty()).then(|| percent_decode(value))
    });
    if let Some(token) = from_query {
        return Some((token, Carrier::Query));
    }
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        return Some((token.to_owned(), Carrier::Bearer));
    }
    let mut offered = request.headers().get_all(header::SEC_WEBSOCKET_PROTOCOL);
    let only = offered.next().filter(|_| offered.next().is_none())?;
    let value = only.to_str().ok()?.trim();
    // A single protocol value that looks like a JWT (three dot-separated parts).
    (!value.contains(',') && value.split('.').count() == 3)
        .then(|| (value.to_owned(), Carrier::Subprotocol))
}

/// JWTs are base64url with dots, which needs no escaping; decoding covers clients
/// that escape anyway.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Middleware for JwtMiddleware {
    fn handshake<'a>(
        &'a self,
        handshake: &'a mut Handshake<'_>,
    ) -> BoxFuture<'a, Result<(), Rejection>> {
        Box::pin(async move {
            // No token: not this middleware's refusal to make; `auth.allow_anonymous` decides.
            let Some((token, carrier)) = find_token(handshake.request()) else {
                return Ok(());
            };
            let claims = self.verify(&token)?;
            handshake.set_claims(claims);
            // The leeway that let an `exp` just past through the handshake also holds for
            // the connection, or it would be closed with 4001 right after `ready`.
            let leeway = std::time::Duration::from_secs(self.validation.leeway);
            handshake.expires_at = handshake.expires_at.and_then(|at| at.checked_add(leeway));
            if matches!(carrier, Carrier::Subprotocol) {
                handshake.select_subprotocol(token);
            }
            Ok(())
        })
    }
}

fn build(settings: &Settings) -> Result<Arc<dyn Middleware>, ConfigError> {
    Ok(Arc::new(JwtMiddleware::from_settings(&settings.jwt)?))
}

crate::register_middleware!("jwt", build);
