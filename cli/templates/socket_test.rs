//! `{{Name}}` (event `{{event}}`) over a real WebSocket, with `switchboard::testing`.
//!
//! Written by `switchboard new socket`; run it with `cargo test --test {{module}}`.

use serde_json::json;
use switchboard::Switchboard;
use switchboard::testing::{self, TestClient, TestError};
{{link}}

/// `{{event}}` is answered to its sender, and to no one else.
#[actix_web::test]
async fn {{module}}_answers_the_sender() -> Result<(), TestError> {
    // One worker, no middleware, anonymous connections. Register here what your
    // listeners need: `.resolve_users(…)`, `.state(…)`.
    let server = testing::start(Switchboard::builder(testing::settings()))?;
    let mut alice = TestClient::connect(&server).await?;
    let mut bob = TestClient::connect(&server).await?;

    // With an ack the emit returns once the handler ran, or fails with its error.
    alice
        .emit_direct_with_ack("{{event}}", json!({"text": "hi"}))
        .await?;
    let packet = alice.expect_event("{{event}}").await?;
    assert_eq!(packet["data"]["text"], "hi");
    // Nothing reached bob: a marker sent through the server is his next packet.
    bob.assert_nothing_before(&server, "marker").await?;
    server.stop().await;
    Ok(())
}
