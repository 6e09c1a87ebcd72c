//! Two servers in one process: `sockets()` inside a handler is that handler's own
//! server, not the last one built. Its own binary: `sockets()` is process-wide state.

mod common;

use common::*;
use serde_json::json;
use switchboard::prelude::*;

/// Answers with the node `sockets()` names, from inside a handler.
#[derive(SocketListener, Default, Debug)]
#[event("which-node")]
struct WhichNode;

#[socket_handler]
impl WhichNode {
    async fn handle(&self, ctx: EventContext) -> Result<(), SocketError> {
        let server = switchboard::sockets().map_err(|e| SocketError::new(e.to_string()))?;
        ctx.reply("node", &json!({"node": server.node_id().to_string()}))?;
        Ok(())
    }
}

#[actix_web::test]
async fn sockets_in_a_handler_is_the_handlers_own_server() {
    let a = start(settings()).await;
    let b = start(settings()).await; // built last: the process-wide default
    for server in [&a, &b] {
        let mut client = Client::connect(server).await;
        client.send(json!({"event": "which-node"})).await;
        let answer = client.recv_event("node").await;
        assert_eq!(
            answer["data"]["node"],
            server.server().node_id().to_string(),
            "a handler on {} reached another server",
            server.addr()
        );
    }
    a.stop().await;
    b.stop().await;
}
