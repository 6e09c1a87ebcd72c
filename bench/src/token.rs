//! Minting the HS256 tokens the load generator's connections present.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header, encode};
use serde::Serialize;

/// How long a minted token stays valid: longer than any run.
const TOKEN_TTL_SECS: u64 = 3600;

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    exp: u64,
}

/// Signs tokens with one HMAC key.
pub struct Minter {
    key: EncodingKey,
    header: Header,
    exp: u64,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter").finish_non_exhaustive()
    }
}

impl Minter {
    /// A minter for `secret` (HS256); tokens expire an hour from now.
    pub fn new(secret: &str) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            header: Header::default(), // HS256
            exp: now + TOKEN_TTL_SECS,
        }
    }

    /// A token whose subject (the user id) is `sub`.
    pub fn token(&self, sub: &str) -> Result<String, jsonwebtoken::errors::Error> {
        encode(&self.header, &Claims { sub, exp: self.exp }, &self.key)
    }
}
