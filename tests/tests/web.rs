//! The browser client route and the demo's web page, rooms and private messages.
//! (The client's behaviour is tested under Node and Chromium: `e2e/`.)

mod common;

use common::{Client, dev_token, http, request, try_connect};
use serde_json::json;
use switchboard::config::Settings;
use switchboard_app::demo_config::DemoConfig;

/// `GET path`: the status, the content type and the body as text.
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let response = common::http_raw(addr, "GET", path, "", &[]).await;
    (response.status, response.content_type, response.body)
}

fn demo_settings() -> Settings {
    let mut s = Settings::default();
    s.server.workers = 1;
    s
}

#[actix_web::test]
async fn the_client_module_is_served_beside_the_endpoint_and_only_with_it() {
    let server = common::start(common::settings()).await;
    let (status, content_type, body) = get(server.addr(), "/switchboard/switchboard.js").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/javascript; charset=utf-8");
    assert!(body.contains("export class SocketClient"), "{body:.200}");
    server.stop().await;

    let mut off = common::settings();
    off.enabled = false;
    let server = common::start(off).await;
    assert_eq!(
        get(server.addr(), "/switchboard/switchboard.js").await.0,
        404
    );
    server.stop().await;
}

#[actix_web::test]
async fn the_client_and_its_types_carry_an_etag_and_cors_for_other_origins() {
    let server = common::start(common::settings()).await;
    let addr = server.addr();
    for (path, content_type, marker) in [
        (
            "/switchboard/switchboard.js",
            "text/javascript; charset=utf-8",
            "export class SocketClient",
        ),
        (
            "/switchboard/switchboard.d.ts",
            "application/typescript; charset=utf-8",
            "export declare class SocketClient<App",
        ),
    ] {
        let origin = [("Origin", "https://spa.example")];
        let first = common::http_raw(addr, "GET", path, "", &origin).await;
        assert_eq!(
            (first.status, first.content_type.as_str()),
            (200, content_type)
        );
        assert!(first.body.contains(marker), "{path}: {:.200}", first.body);
        assert_eq!(first.header("access-control-allow-origin"), Some("*"));
        assert_eq!(first.header("cache-control"), Some("no-cache"));
        let etag = first.header("etag").expect("an ETag").to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

        // The browser revalidates with the tag it has: nothing to send again.
        let again = common::http_raw(addr, "GET", path, "", &[("If-None-Match", &etag)]).await;
        assert_eq!(again.status, 304, "{path}");
        assert_eq!(again.body, "");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert_eq!(again.header("access-control-allow-origin"), Some("*"));

        // A tag of another version (or a weak match listed among others) as HTTP says.
        let stale = common::http_raw(addr, "GET", path, "", &[("If-None-Match", "\"0000\"")]).await;
        assert_eq!(stale.status, 200);
        let listed = format!("\"0000\", W/{etag}");
        let weak = common::http_raw(addr, "GET", path, "", &[("If-None-Match", &listed)]).await;
        assert_eq!(weak.status, 304);
    }
    let client = common::http_raw(addr, "GET", "/switchboard/switchboard.js", "", &[]).await;
    assert_eq!(
        client.header("x-typescript-types"),
        Some("./switchboard.d.ts")
    );
    server.stop().await;
}

#[actix_web::test]
async fn the_demo_serves_its_page_and_room_fragments_and_summary() {
    let server = switchboard_app::start(demo_settings(), &DemoConfig::default(), "127.0.0.1:0")
        .expect("demo starts");
    let (status, content_type, page) = get(server.addr(), "/").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    assert!(page.contains("data-sb-channel=\"room.lobby\""), "{page}");
    let (status, _, script) = get(server.addr(), "/app.js").await;
    assert_eq!(status, 200);
    assert!(script.contains("from '/switchboard/switchboard.js'"));

    let bearer = format!("Bearer {}", dev_token(&server, "Eve").await);
    let (status, body) = http(
        server.addr(),
        "POST",
        "/rooms/7/messages",
        Some(&json!({"message": "<script>x</script>"})),
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!((status, &body["seq"]), (201, &json!(1)), "{body}");
    let (status, _, fragment) = get(server.addr(), "/rooms/7/messages").await;
    assert_eq!(status, 200);
    assert!(
        fragment.contains("&lt;script&gt;x&lt;/script&gt;"),
        "{fragment}"
    );
    assert!(!fragment.contains("<script>"), "{fragment}");
    assert_eq!(get(server.addr(), "/rooms/a.b/messages").await.0, 400);

    // The summary card the page's `data-sb-action` element POSTs for.
    assert!(
        page.contains("data-sb-action=\"POST /rooms/lobby/summary\""),
        "{page}"
    );
    let summary = common::http_raw(server.addr(), "POST", "/rooms/7/summary", "", &[]).await;
    assert_eq!(
        (summary.status, summary.content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    assert!(
        summary.body.contains(">1</strong> message<")
            && summary.body.contains("Eve")
            && summary.body.contains("&lt;script&gt;x&lt;/script&gt;"),
        "{}",
        summary.body
    );
    assert!(!summary.body.contains("<script>"), "{}", summary.body);
    let bad = common::http_raw(server.addr(), "POST", "/rooms/a.b/summary", "", &[]).await;
    assert_eq!(bad.status, 400);
    server.stop().await;
}

#[actix_web::test]
async fn a_private_message_reaches_the_recipient_and_the_senders_channel() {
    let server = switchboard_app::start(demo_settings(), &DemoConfig::default(), "127.0.0.1:0")
        .expect("demo starts");
    let mut clients = Vec::new();
    for name in ["alice", "bob"] {
        let token = dev_token(&server, name).await;
        let mut client: Client = try_connect(&server, request(&server, Some(&token)))
            .await
            .expect("token accepted");
        client.join(&format!("user:chat.{name}")).await;
        clients.push(client);
    }
    let [alice, bob] = &mut clients[..] else {
        unreachable!()
    };
    alice
        .send(json!({"event": "private-message", "data": {"to": "bob", "message": "hi"}, "id": 1}))
        .await;
    let expected = json!({"message": "hi", "from": "alice", "from_id": "alice", "to": "bob"});
    let received = bob.recv_event("message").await;
    assert_eq!(
        (&received["channel"], &received["data"]),
        (&json!("user:chat.bob"), &expected)
    );
    let copy = alice.recv_event("message").await;
    assert_eq!(
        (&copy["channel"], &copy["data"]),
        (&json!("user:chat.alice"), &expected)
    );
    let ack = alice.recv_event("ack").await;
    assert_eq!(
        ack["data"],
        json!({"id": 1, "ok": true, "data": {"delivered": 1}})
    );

    alice
        .send(
            json!({"event": "private-message", "data": {"to": "no one!", "message": "x"}, "id": 2}),
        )
        .await;
    let ack = alice.recv_event("ack").await;
    assert_eq!(ack["data"]["error"]["code"], "bad_payload");
    server.stop().await;
}
