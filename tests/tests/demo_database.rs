//! The demo with its rooms in PostgreSQL: a row inserted with psql reaches every page
//! on the room, and the tab that posts is not signalled (it renders the answer).

mod common;

use common::postgres::PostgresServer;
use common::{Client, dev_token, http, request, try_connect};
use serde_json::json;
use switchboard::Running;
use switchboard::config::Settings;
use switchboard_app::demo_config::DemoConfig;

fn start_demo(database_url: String) -> Running {
    let mut settings = Settings::default();
    settings.server.workers = 1;
    let demo = DemoConfig {
        database_url,
        ..DemoConfig::default()
    };
    switchboard_app::start(settings, &demo, "127.0.0.1:0").expect("the demo starts on PostgreSQL")
}

async fn tab(server: &Running, token: &str) -> Client {
    let mut client = try_connect(server, request(server, Some(token)))
        .await
        .expect("token accepted");
    client.join("room.db").await;
    client
}

async fn signalled(client: &mut Client) {
    let packet = client.recv_event("message").await;
    assert_eq!(packet["channel"], "room.db", "{packet}");
    assert!(packet["data"]["at"].is_u64(), "a signal: {packet}");
}

#[actix_web::test]
async fn rows_from_psql_reach_every_tab_and_the_poster_renders_its_own_post() {
    let pg = PostgresServer::start();
    let server = start_demo(pg.url());
    let alice = dev_token(&server, "Alice").await;
    let bob = dev_token(&server, "Bob").await;
    let (mut tab_a, mut tab_b, mut bobs) = (
        tab(&server, &alice).await,
        tab(&server, &alice).await,
        tab(&server, &bob).await,
    );

    pg.psql(
        "INSERT INTO room_messages (room, author, body) VALUES ('db', 'psql', 'typed in psql')",
    );
    for client in [&mut tab_a, &mut tab_b, &mut bobs] {
        signalled(client).await;
    }
    let fragment = common::http_raw(server.addr(), "GET", "/rooms/db/messages", "", &[]).await;
    assert!(fragment.body.contains("typed in psql"), "{}", fragment.body);

    let bearer = format!("Bearer {alice}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("x-socket-id", tab_a.connection_id.as_str()),
    ];
    let post = json!({ "message": "posted by tab A" });
    let (status, body) = http(
        server.addr(),
        "POST",
        "/rooms/db/messages",
        Some(&post),
        &headers,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let html = body["html"].as_str().expect("the room in the answer");
    assert!(
        html.contains("posted by tab A") && html.contains("typed in psql"),
        "{html}"
    );
    signalled(&mut tab_b).await;
    signalled(&mut bobs).await;
    tab_a.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}
