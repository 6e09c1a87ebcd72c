//! Handshake authentication: the JWT middleware, anonymous access, expiry, users.

mod common;

use std::process::Command;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use switchboard::config::{JwtAlgorithm, Secret};
use tokio_tungstenite::tungstenite::http::HeaderValue;

async fn refused(server: &switchboard::Running, token: Option<&str>) -> (u16, String, String) {
    match try_connect(server, request(server, token)).await {
        Ok(_) => panic!("connection was accepted"),
        Err((status, body)) => (
            status,
            body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            body["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
    }
}

#[actix_web::test]
async fn every_bad_token_is_refused_with_401_and_a_reason() {
    let server = start(jwt_settings()).await;
    let hs = |claims: Value| {
        sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(SECRET.as_bytes()),
            &claims,
        )
    };
    let other_key = |claims: Value| {
        sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"),
            &claims,
        )
    };
    // `alg: none`, hand-made: header {"alg":"none","typ":"JWT"}, claims {"sub":"x"}, no signature.
    let alg_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.";
    let huge = hs(json!({"sub": "x", "exp": now_plus(60), "pad": "p".repeat(9000)}));

    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("no token", None, "missing_token"),
        ("not a jwt", Some("hello".into()), "malformed_token"),
        (
            "expired",
            Some(hs(json!({"sub": "x", "exp": now_plus(-10)}))),
            "expired_token",
        ),
        (
            "bad signature",
            Some(other_key(json!({"sub": "x", "exp": now_plus(60)}))),
            "invalid_signature",
        ),
        ("alg none", Some(alg_none.into()), "malformed_token"),
        (
            "HS512 when HS256 is configured",
            Some(sign(
                Algorithm::HS512,
                &EncodingKey::from_secret(SECRET.as_bytes()),
                &json!({"sub": "x", "exp": now_plus(60)}),
            )),
            "invalid_algorithm",
        ),
        (
            "missing exp",
            Some(hs(json!({"sub": "x"}))),
            "missing_claim",
        ),
        (
            "not yet valid",
            Some(hs(
                json!({"sub": "x", "exp": now_plus(60), "nbf": now_plus(600)}),
            )),
            "token_not_yet_valid",
        ),
        ("oversized", Some(huge), "token_too_large"),
        (
            "no sub",
            Some(hs(json!({"exp": now_plus(60)}))),
            "missing_claim",
        ),
    ];
    for (what, token, code) in cases {
        let (status, got, message) = refused(&server, token.as_deref()).await;
        assert_eq!((status, got.as_str()), (401, code), "{what}: {message}");
        assert!(!message.is_empty(), "{what}: a reason is given");
    }
    assert_eq!(
        server.server().stats().connections,
        0,
        "no socket was opened"
    );
    server.stop().await;
}

#[actix_web::test]
async fn issuer_and_audience_are_enforced_when_configured() {
    let mut s = jwt_settings();
    s.jwt.issuer = "auth.example".into();
    s.jwt.audience = "chat".into();
    let server = start(s).await;
    let ok = token_for("x", json!({"iss": "auth.example", "aud": "chat"}));
    assert!(
        try_connect(&server, request(&server, Some(&ok)))
            .await
            .is_ok()
    );
    let wrong_iss = token_for("x", json!({"iss": "evil", "aud": "chat"}));
    assert_eq!(refused(&server, Some(&wrong_iss)).await.1, "invalid_issuer");
    let wrong_aud = token_for("x", json!({"iss": "auth.example", "aud": "mail"}));
    assert_eq!(
        refused(&server, Some(&wrong_aud)).await.1,
        "invalid_audience"
    );
    let no_iss = token_for("x", json!({"aud": "chat"}));
    assert_eq!(refused(&server, Some(&no_iss)).await.1, "missing_claim");
    server.stop().await;
}

#[actix_web::test]
async fn a_valid_token_names_the_user_in_ready_whichever_way_it_is_sent() {
    let server = start(jwt_settings()).await;
    let token = token_for("alice", json!({}));

    let mut by_query = try_connect(&server, request(&server, Some(&token)))
        .await
        .expect("query token");
    assert_eq!(by_query.ready["data"]["user_id"], "alice", "query token");
    by_query.send(json!({"event": "pong", "id": 1})).await;
    by_query.recv_event("ack").await;

    let mut bearer = request(&server, None);
    bearer.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    let bearer = try_connect(&server, bearer).await.expect("bearer token");
    assert_eq!(bearer.ready["data"]["user_id"], "alice", "bearer token");

    // Envuso's 1.0 client sends the token as the only subprotocol; the server must echo it.
    let mut subprotocol = request(&server, None);
    subprotocol.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&token).expect("header"),
    );
    let (ws, response) = tokio_tungstenite::connect_async(subprotocol)
        .await
        .expect("subprotocol token");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(token.as_str())
    );
    let by_subprotocol = Client::after_handshake(ws).await;
    assert_eq!(
        by_subprotocol.ready["data"]["user_id"], "alice",
        "subprotocol token"
    );
    assert_eq!(server.server().stats().users, 1);
    server.stop().await;
}

#[actix_web::test]
async fn anonymous_connections_only_when_allowed() {
    let server = start(jwt_settings()).await;
    let (status, code, _) = refused(&server, None).await;
    assert_eq!((status, code.as_str()), (401, "missing_token"));
    server.stop().await;

    let mut s = jwt_settings();
    s.auth.allow_anonymous = true;
    let server = start(s).await;
    let mut anonymous = try_connect(&server, request(&server, None))
        .await
        .expect("anonymous allowed");
    // A bad token is still refused: anonymous access is not a fallback for broken credentials.
    assert_eq!(refused(&server, Some("bad")).await.1, "malformed_token");
    // Listeners that need a user refuse the anonymous connection.
    let r = anonymous.subscribe("user:chat.anyone").await;
    assert_eq!(r["reason"], "unauthorised");
    anonymous.join("global-chat").await;
    server.stop().await;
}

#[actix_web::test]
async fn the_connection_closes_with_4001_when_the_token_expires() {
    let server = start(jwt_settings()).await;
    let token = token_for("alice", json!({"exp": now_plus(2)}));
    let mut client = try_connect(&server, request(&server, Some(&token)))
        .await
        .expect("valid for 2 s");
    assert_eq!(client.closed_with().await, 4001);
    server.stop().await;
}

/// Generates a key pair with the openssl CLI (fast, unlike RSA keygen in a debug build).
fn keypair(kind: &str) -> (Vec<u8>, String) {
    let dir = std::env::temp_dir().join(format!("switchboard-keys-{}-{kind}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let private = dir.join("private.pem");
    let public = dir.join("public.pem");
    let args: &[&str] = match kind {
        "rsa" => &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ],
        _ => &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ],
    };
    let ok = Command::new("openssl")
        .args(args)
        .arg("-out")
        .arg(&private)
        .status()
        .expect("openssl runs");
    assert!(ok.success(), "openssl genpkey");
    let ok = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .expect("openssl runs");
    assert!(ok.success(), "openssl pkey -pubout");
    let private_pem = std::fs::read(&private).expect("private key");
    (private_pem, public.display().to_string())
}

#[actix_web::test]
async fn rs256_and_es256_tokens_verify_with_a_public_key() {
    for (kind, algorithm, configured) in [
        ("rsa", Algorithm::RS256, JwtAlgorithm::RS256),
        ("ec", Algorithm::ES256, JwtAlgorithm::ES256),
    ] {
        let (private_pem, public_file) = keypair(kind);
        let mut s = jwt_settings();
        s.jwt.algorithm = configured;
        s.jwt.secret = Secret::default();
        s.jwt.public_key_file = public_file.clone();
        let server = start(s).await;
        let key = match kind {
            "rsa" => EncodingKey::from_rsa_pem(&private_pem),
            _ => EncodingKey::from_ec_pem(&private_pem),
        }
        .expect("private key parses");
        let token = sign(
            algorithm,
            &key,
            &json!({"sub": "carol", "exp": now_plus(60)}),
        );
        let client = try_connect(&server, request(&server, Some(&token))).await;
        assert!(client.is_ok(), "{kind}: {:?}", client.err());

        // Algorithm confusion: an HS256 token "signed" with the public key text is refused.
        let public_pem = std::fs::read(&public_file).expect("public key");
        let confused = sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(&public_pem),
            &json!({"sub": "mallory", "exp": now_plus(60)}),
        );
        assert_eq!(
            refused(&server, Some(&confused)).await.1,
            "invalid_algorithm",
            "{kind}"
        );
        server.stop().await;
    }
}

#[test]
fn unusable_keys_are_refused_at_start_naming_the_key() {
    let mut s = jwt_settings();
    s.jwt.secret = Secret::new("short");
    let e = switchboard::Switchboard::new(s).expect_err("short secret");
    assert!(e.to_string().contains("key `jwt.secret`"), "{e}");
    assert!(e.to_string().contains("SWITCHBOARD__JWT__SECRET"), "{e}");

    let mut s = jwt_settings();
    s.jwt.algorithm = JwtAlgorithm::RS256;
    s.jwt.public_key_file = "/nonexistent/key.pem".into();
    let e = switchboard::Switchboard::new(s).expect_err("missing file");
    assert!(e.to_string().contains("key `jwt.public_key_file`"), "{e}");

    // The demo's listeners take `&User`; the default resolver produces `ClaimsUser`.
    let mut s = jwt_settings();
    s.jwt.secret = Secret::new(SECRET);
    let e = switchboard::Switchboard::new(s).expect_err("user type mismatch");
    let text = e.to_string();
    assert!(
        text.contains("takes the user as `switchboard_app::user::User`"),
        "{text}"
    );
    assert!(
        text.contains("produces `switchboard::auth::user::ClaimsUser`"),
        "{text}"
    );

    let mut s = jwt_settings();
    s.middleware = vec!["jwt".into(), "nope".into()];
    let e = switchboard::Switchboard::new(s).expect_err("unknown middleware");
    assert!(
        e.to_string()
            .contains("unknown middleware `nope`; registered: jwt"),
        "{e}"
    );
}
