//! `{{Name}}` (`{{pattern}}`) over a real WebSocket, with `switchboard::testing`.
//!
//! Written by `switchboard new channel`; run it with `cargo test --test {{module}}`.

use serde_json::json;
use switchboard::Switchboard;
use switchboard::testing::{self, TestClient, TestError};
{{link}}

/// A `message` on `{{sample}}` reaches every subscriber, the sender too.
#[actix_web::test]
async fn {{module}}_message_reaches_every_subscriber() -> Result<(), TestError> {
    // One worker, no middleware, anonymous connections. Register here what your
    // listeners need: `.resolve_users(…)`, `.state(…)`.
    let server = testing::start(Switchboard::builder(testing::settings()))?;
    let mut alice = TestClient::connect(&server).await?;
    let mut bob = TestClient::connect(&server).await?;
    alice.subscribe("{{sample}}").await?;
    bob.subscribe("{{sample}}").await?;

    // With an ack the emit returns once the event ran, or fails with its error.
    alice
        .emit_with_ack("{{sample}}", "message", json!({"text": "hi"}))
        .await?;
    for client in [&mut alice, &mut bob] {
        let packet = client.expect_channel_event("{{sample}}", "message").await?;
        assert_eq!(packet["data"]["text"], "hi");
    }
    // Nothing else reached bob: a marker sent through the server is his next packet.
    bob.assert_nothing_before(&server, "marker").await?;
    server.stop().await;
    Ok(())
}
