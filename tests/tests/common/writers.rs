//! Who a change leaves out: Alice's two tabs and Bob on one channel, and the request a
//! tab makes after a write, naming itself with `X-Socket-Id`.

use serde_json::{Value, json};
use switchboard::Running;

use super::{Client, connect_as, http, token_for};

/// Alice's tab A, her tab B and Bob, each joined to `channel`.
pub async fn tabs(server: &Running, channel: &str) -> (Client, Client, Client) {
    let mut tab_a = connect_as(server, "alice").await;
    let mut tab_b = connect_as(server, "alice").await;
    let mut bob = connect_as(server, "bob").await;
    for client in [&mut tab_a, &mut tab_b, &mut bob] {
        client.join(channel).await;
    }
    (tab_a, tab_b, bob)
}

/// `POST path` as `user` (a fresh token), naming connection `socket` as the writer.
pub async fn post_from(server: &Running, path: &str, user: &str, socket: &str) -> (u16, Value) {
    let bearer = format!("Bearer {}", token_for(user, json!({})));
    let headers = [("Authorization", bearer.as_str()), ("X-Socket-Id", socket)];
    http(server.addr(), "POST", path, None, &headers).await
}
