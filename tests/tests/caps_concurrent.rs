//! Connection caps hold when many handshakes arrive at once, not only one by one.

mod common;

use common::*;

#[actix_web::test]
async fn concurrent_handshakes_never_exceed_the_node_cap() {
    const CAP: usize = 5;
    let mut s = settings();
    s.server.workers = 2; // handshakes on two threads at once
    s.limits.max_connections = CAP;
    let server = start(s).await;
    let attempts = (0..40).map(|_| try_connect(&server, request(&server, None)));
    let results = futures_util::future::join_all(attempts).await;
    let mut open = Vec::new();
    for result in results {
        match result {
            Ok(client) => open.push(client),
            Err((status, body)) => {
                assert_eq!(
                    (status, body["error"]["code"].as_str()),
                    (503, Some("too_many_connections"))
                );
            }
        }
    }
    assert!(
        open.len() <= CAP,
        "{} connections accepted with max_connections = {CAP}",
        open.len()
    );
    assert_eq!(open.len(), CAP, "the cap is reached, not undershot");
    server.stop().await;
}
