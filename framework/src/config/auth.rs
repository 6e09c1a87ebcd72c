//! `[auth]` and `[jwt]`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `[auth]`: who may connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuthSettings {
    /// Accept connections that no middleware authenticated; hooks then see no user.
    pub allow_anonymous: bool,
    /// Browser origins allowed to connect (`https://app.example.com`); empty allows
    /// any. A handshake from another origin gets 403. Requests without an `Origin`
    /// header (not from a browser) are not affected.
    pub allowed_origins: Vec<String>,
    /// Seconds before a token's expiry that the client is sent `token-expiring`, so
    /// it can refresh in-band (halfway through the token's remaining life when that is
    /// shorter).
    pub refresh_window_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            allow_anonymous: false,
            allowed_origins: Vec::new(),
            refresh_window_secs: 30,
        }
    }
}

/// `[jwt]`: how the built-in `jwt` middleware verifies tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct JwtSettings {
    /// Signature algorithm; tokens signed otherwise are refused.
    pub algorithm: JwtAlgorithm,
    /// HMAC secret for HS256/384/512, at least 32 bytes. Set it through the
    /// environment: `SWITCHBOARD__JWT__SECRET`.
    pub secret: Secret,
    /// PEM public key for RS256/ES256, as text (e.g. `SWITCHBOARD__JWT__PUBLIC_KEY`).
    pub public_key: Secret,
    /// PEM public key for RS256/ES256, as a file path (used when `public_key` is empty).
    pub public_key_file: String,
    /// Required `iss` claim; empty accepts any issuer.
    pub issuer: String,
    /// Required `aud` claim; empty does not check the audience.
    pub audience: String,
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Refuse tokens without an `exp` claim.
    pub require_exp: bool,
    /// Longest token accepted, checked before decoding.
    pub max_token_bytes: usize,
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self {
            algorithm: JwtAlgorithm::HS256,
            secret: Secret::default(),
            public_key: Secret::default(),
            public_key_file: String::new(),
            issuer: String::new(),
            audience: String::new(),
            leeway_secs: 5,
            require_exp: true,
            max_token_bytes: 8192,
        }
    }
}

/// `jwt.algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JwtAlgorithm {
    /// HMAC with SHA-256.
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
}

impl JwtAlgorithm {
    /// True for the HMAC family, which uses `jwt.secret`.
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }
}

/// A secret value: never printed by `Debug`, so settings can be logged safely.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when unset.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(<empty>)")
        } else {
            f.write_str("Secret(<redacted>)")
        }
    }
}
