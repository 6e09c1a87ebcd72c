//! The JWT settings beyond the defaults: leeway, `require_exp = false`, HS384/HS512,
//! and secrets that never print.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use switchboard::config::{JwtAlgorithm, Secret};

fn hs(alg: Algorithm, claims: Value) -> String {
    sign(alg, &EncodingKey::from_secret(SECRET.as_bytes()), &claims)
}

async fn verdict(server: &switchboard::Running, token: &str) -> Result<(), (u16, String)> {
    match try_connect(server, request(server, Some(token))).await {
        Ok(_) => Ok(()),
        Err((status, body)) => Err((
            status,
            body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )),
    }
}

#[actix_web::test]
async fn leeway_forgives_a_clock_that_is_a_little_behind_and_no_more() {
    let mut s = jwt_settings();
    s.jwt.leeway_secs = 30;
    let server = start(s).await;
    // Expired 10 s ago, or valid only from 10 s on: within 30 s of leeway.
    let late = hs(Algorithm::HS256, json!({"sub": "x", "exp": now_plus(-10)}));
    assert_eq!(verdict(&server, &late).await, Ok(()));
    let early = hs(
        Algorithm::HS256,
        json!({"sub": "x", "exp": now_plus(600), "nbf": now_plus(10)}),
    );
    assert_eq!(verdict(&server, &early).await, Ok(()));
    // Past the leeway.
    let too_late = hs(Algorithm::HS256, json!({"sub": "x", "exp": now_plus(-60)}));
    assert_eq!(
        verdict(&server, &too_late).await,
        Err((401, "expired_token".into()))
    );
    let too_early = hs(
        Algorithm::HS256,
        json!({"sub": "x", "exp": now_plus(600), "nbf": now_plus(60)}),
    );
    assert_eq!(
        verdict(&server, &too_early).await,
        Err((401, "token_not_yet_valid".into()))
    );
    server.stop().await;
}

#[actix_web::test]
async fn require_exp_false_accepts_a_token_without_exp_but_still_checks_one_given() {
    let mut s = jwt_settings();
    s.jwt.require_exp = false;
    let server = start(s).await;
    let no_exp = hs(Algorithm::HS256, json!({"sub": "x"}));
    assert_eq!(verdict(&server, &no_exp).await, Ok(()));
    let expired = hs(Algorithm::HS256, json!({"sub": "x", "exp": now_plus(-10)}));
    assert_eq!(
        verdict(&server, &expired).await,
        Err((401, "expired_token".into()))
    );
    server.stop().await;
}

#[actix_web::test]
async fn hs384_and_hs512_verify_when_configured_and_only_then() {
    for (configured, alg, other) in [
        (JwtAlgorithm::HS384, Algorithm::HS384, Algorithm::HS512),
        (JwtAlgorithm::HS512, Algorithm::HS512, Algorithm::HS256),
    ] {
        let mut s = jwt_settings();
        s.jwt.algorithm = configured;
        let server = start(s).await;
        let claims = json!({"sub": "x", "exp": now_plus(60)});
        assert_eq!(
            verdict(&server, &hs(alg, claims.clone())).await,
            Ok(()),
            "{alg:?}"
        );
        assert_eq!(
            verdict(&server, &hs(other, claims)).await,
            Err((401, "invalid_algorithm".into())),
            "{other:?} when {alg:?} is configured"
        );
        server.stop().await;
    }
}

#[test]
fn settings_print_secrets_as_redacted() {
    let mut s = jwt_settings();
    s.http_api.key = Secret::new("an-api-key-that-is-at-least-32-bytes-long");
    s.backplane.url = Secret::new("redis://:hunter2-password@127.0.0.1:6379");
    let printed = format!("{s:?} {s:#?}");
    for secret in [SECRET, "an-api-key-that-is-at-least", "hunter2-password"] {
        assert!(!printed.contains(secret), "{secret} printed in {printed}");
    }
    assert!(printed.contains("<redacted>"), "{printed}");
}

/// Connects with `token` and waits for the server to close the connection; returns the
/// close code and how long after `ready` it came.
async fn closed_after(server: &switchboard::Running, token: &str) -> (u16, std::time::Duration) {
    let mut client = match try_connect(server, request(server, Some(token))).await {
        Ok(client) => client,
        Err(refusal) => panic!("refused: {refusal:?}"),
    };
    let ready_at = std::time::Instant::now();
    let code = client.closed_with().await;
    (code, ready_at.elapsed())
}

#[actix_web::test]
async fn a_fractional_exp_still_expires_mid_connection() {
    let server = start(jwt_settings()).await; // leeway 0
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64();
    let token = hs(Algorithm::HS256, json!({"sub": "x", "exp": now + 2.5}));
    let (code, after) = closed_after(&server, &token).await;
    assert_eq!(code, 4001);
    assert!(
        after <= std::time::Duration::from_millis(2_600),
        "closed {after:?} after ready"
    );
}

#[actix_web::test]
async fn a_token_inside_the_leeway_window_is_closed_only_when_the_leeway_runs_out() {
    let mut s = jwt_settings();
    s.jwt.leeway_secs = 4;
    let server = start(s).await;
    // Expired a second or two ago: accepted within the leeway, and served for its
    // last two seconds or more.
    let token = hs(Algorithm::HS256, json!({"sub": "x", "exp": now_plus(-1)}));
    let (code, after) = closed_after(&server, &token).await;
    assert_eq!(code, 4001);
    assert!(
        after >= std::time::Duration::from_millis(1_000),
        "closed {after:?} after ready, inside the leeway"
    );
}
