//! Authentication that does not finish within `handshake_timeout_secs` is answered
//! with 503, and does not hold up anyone else's handshake.

mod common;

use std::time::{Duration, Instant};

use common::*;
use switchboard::Switchboard;
use switchboard::auth::{Claims, Rejection, UserResolver};
use switchboard_app::user::{User, Users};

/// The demo's resolver, except that user `slow` takes far longer than the timeout
/// (a database that hangs).
struct SlowForOne;

impl UserResolver for SlowForOne {
    type User = User;

    async fn resolve(&self, claims: &Claims) -> Result<User, Rejection> {
        if claims.subject().as_deref() == Some("slow") {
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Users.resolve(claims).await
    }
}

#[actix_web::test]
async fn slow_authentication_is_answered_503_after_the_handshake_timeout() {
    let mut s = jwt_settings();
    s.limits.handshake_timeout_secs = 1;
    let server = Switchboard::builder(s)
        .resolve_users(SlowForOne)
        .build()
        .expect("valid settings")
        .start("127.0.0.1:0")
        .expect("server binds");
    let slow = {
        let request = request(&server, Some(&token_for("slow", serde_json::json!({}))));
        let started = Instant::now();
        async move { (try_connect_unchecked(request).await, started.elapsed()) }
    };
    // Meanwhile someone else connects at once.
    let fast = async {
        let started = Instant::now();
        let client = connect_as(&server, "fast").await;
        (client, started.elapsed())
    };
    let ((refused, waited), (_fast, fast_took)) = futures_util::join!(slow, fast);
    let (status, body) = match refused {
        Ok(()) => panic!("the slow user connected"),
        Err(refusal) => refusal,
    };
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("handshake_timeout")),
        "{body}"
    );
    assert!(
        waited >= Duration::from_millis(900),
        "answered before the timeout: {waited:?}"
    );
    assert!(
        fast_took < waited,
        "the fast user waited for the slow one: {fast_took:?}"
    );
    server.stop().await;
}

/// A handshake's HTTP refusal, without reading `ready` on success.
async fn try_connect_unchecked(
    request: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<(), (u16, serde_json::Value)> {
    match tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
        .await
        .expect("an answer within the patience window")
    {
        Ok(_) => Ok(()),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err((
            response.status().as_u16(),
            response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default(),
        )),
        Err(e) => panic!("handshake failed outside HTTP: {e}"),
    }
}
