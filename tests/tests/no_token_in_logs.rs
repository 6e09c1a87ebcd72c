//! Tokens never reach the logs, whichever way they are sent, accepted or refused, even
//! with every `switchboard` and actix log on. One test in its own binary: it installs
//! the process-wide log subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Everything logged, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[actix_web::test]
async fn no_token_is_logged_at_trace_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        // Everything but the test's own WebSocket client, which logs its requests.
        .with_env_filter("trace,tungstenite=off,tokio_tungstenite=off")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let server = start(jwt_settings()).await;
    let good = token_for("alice", serde_json::json!({}));
    let expired = token_for("bob", serde_json::json!({"exp": now_plus(-60)}));
    let garbage = "not-a-jwt-but-secret-looking-0123456789";
    // Query string, accepted and refused.
    let mut alice = try_connect(&server, request(&server, Some(&good)))
        .await
        .expect("accepted");
    assert!(
        try_connect(&server, request(&server, Some(&expired)))
            .await
            .is_err()
    );
    assert!(
        try_connect(&server, request(&server, Some(garbage)))
            .await
            .is_err()
    );
    // Bearer header and subprotocol, refused (the accepted paths log the same way).
    let mut bearer = request(&server, None);
    bearer.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {expired}")).expect("header"),
    );
    assert!(try_connect(&server, bearer).await.is_err());
    let mut subprotocol = request(&server, None);
    subprotocol.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(garbage).expect("header"),
    );
    assert!(try_connect(&server, subprotocol).await.is_err());
    alice.join("global-chat").await;
    drop(alice);
    eventually("alice's session ends", || {
        server.server().stats().connections == 0
    })
    .await;
    server.stop().await;

    let logs = captured.text();
    assert!(
        logs.contains("handshake refused"),
        "debug logs were captured:\n{logs}"
    );
    // A token's signature is its secret part; its header is the same for every token.
    for token in [&good, &expired] {
        let signature = token.rsplit('.').next().expect("a JWT has three parts");
        assert!(
            !logs.contains(signature),
            "a token reached the logs:\n{logs}"
        );
    }
    assert!(
        !logs.contains(garbage),
        "a refused token reached the logs:\n{logs}"
    );
}
