//! Signals: coalesced per channel and event, the writer left out when the request that
//! caused the write names its own connection (`X-Socket-Id`), and never when it names
//! someone else's.

mod common;

use std::time::{Duration, SystemTime};

use actix_web::{HttpResponse, web};
use common::writers::{post_from, tabs};
use common::{Client, connect_as, jwt_settings};
use serde_json::{Value, json};
use switchboard::config::Settings;
use switchboard::prelude::*;
use switchboard::{Initiator, Running, SocketServer, Switchboard};

use switchboard_app as _;

/// Anyone may join a board; `touch` signals the others.
#[derive(ChannelListener, Default)]
#[channel("board.{id}")]
struct Board;

#[channel_events]
impl Board {
    pub async fn touch(
        &self,
        ctx: EventContext,
        _packet: Packet<Value>,
    ) -> Result<(), SocketError> {
        ctx.signal("changed")?;
        Ok(())
    }
}

/// `POST /boards/{id}`: "saves", then signals the board, leaving out the initiator.
async fn save(
    sockets: web::Data<SocketServer>,
    initiator: Initiator,
    id: web::Path<String>,
) -> HttpResponse {
    let channel = format!("board.{id}");
    sockets
        .signal_except(&channel, "changed", &initiator)
        .expect("signal");
    HttpResponse::Ok().json(json!({ "initiator": initiator.connection_id() }))
}

/// `POST /boards/{id}/everywhere`: like `save`, leaving out all of the writer's tabs.
async fn save_everywhere(
    sockets: web::Data<SocketServer>,
    initiator: Initiator,
    id: web::Path<String>,
) -> HttpResponse {
    sockets
        .signal_except_user(&format!("board.{id}"), "changed", &initiator)
        .expect("signal");
    HttpResponse::Ok().json(json!({ "user": initiator.user_id() }))
}

fn serve(settings: Settings) -> Running {
    Switchboard::builder(settings)
        .resolve_users(switchboard_app::user::Users)
        .build()
        .expect("valid settings")
        .start_with("127.0.0.1:0", |cfg| {
            cfg.route("/boards/{id}", web::post().to(save))
                .route("/boards/{id}/everywhere", web::post().to(save_everywhere));
        })
        .expect("binds")
}

/// The next `changed` signal's data.
async fn signalled(client: &mut Client) -> Value {
    client.recv_event("changed").await["data"].clone()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

#[actix_web::test]
async fn a_burst_of_signals_arrives_as_a_few_the_last_after_the_last_write() {
    let server = serve(jwt_settings());
    let mut alice = connect_as(&server, "alice").await;
    alice.join("board.burst").await;
    let sockets = server.server().clone();
    let writer = std::thread::spawn(move || {
        let mut last_write = 0;
        for i in 0..1000 {
            last_write = now_ms();
            sockets.signal("board.burst", "changed").expect("signal");
            if i % 100 == 99 {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        last_write
    });
    let last_write = tokio::task::spawn_blocking(move || writer.join().expect("writer"))
        .await
        .expect("joined");
    let (mut received, mut counted, mut last_at) = (0, 0, 0);
    while counted < 1000 {
        let data = signalled(&mut alice).await;
        received += 1;
        counted += data["count"].as_u64().expect("a count");
        last_at = data["at"].as_u64().expect("a time");
    }
    assert_eq!(counted, 1000, "every write is counted once");
    assert!(
        received <= 5,
        "{received} signals for a burst of about 100 ms"
    );
    assert!(
        last_at + 1 >= last_write,
        "the last one is after the last write"
    );
    alice.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn without_a_window_each_signal_goes_out_at_once() {
    let mut settings = jwt_settings();
    settings.signals.coalesce_ms = 0;
    let server = serve(settings);
    let mut alice = connect_as(&server, "alice").await;
    alice.join("board.now").await;
    for _ in 0..3 {
        server
            .server()
            .signal("board.now", "changed")
            .expect("signal");
    }
    for _ in 0..3 {
        assert_eq!(signalled(&mut alice).await["count"], 1);
    }
    server.stop().await;
}

#[actix_web::test]
async fn the_writer_named_by_x_socket_id_is_left_out_and_a_forged_one_is_ignored() {
    let server = serve(jwt_settings());
    let (mut tab_a, mut tab_b, mut bob) = tabs(&server, "board.1").await;
    let post = |user: &'static str, socket: String| {
        let server = &server;
        async move { post_from(server, "/boards/1", user, &socket).await }
    };
    let (status, body) = post("alice", tab_a.connection_id.clone()).await;
    assert_eq!(
        (status, &body["initiator"]),
        (200, &json!(tab_a.connection_id))
    );
    assert_eq!(signalled(&mut tab_b).await["count"], 1, "alice's other tab");
    assert_eq!(signalled(&mut bob).await["count"], 1);
    tab_a.assert_nothing_before(&server, "marker").await;

    // Bob names Alice's tab: he may not silence it.
    let (status, body) = post("bob", tab_a.connection_id.clone()).await;
    assert_eq!((status, &body["initiator"]), (200, &Value::Null));
    for client in [&mut tab_a, &mut tab_b, &mut bob] {
        assert_eq!(signalled(client).await["count"], 1);
    }
    // No header, an unknown connection: everyone.
    let (_, body) = post("alice", "n0-404".into()).await;
    assert_eq!(body["initiator"], Value::Null);
    assert_eq!(signalled(&mut tab_a).await["count"], 1);
    server.stop().await;
}

#[actix_web::test]
async fn a_listener_signal_leaves_out_the_sender() {
    let server = serve(jwt_settings());
    let mut alice = connect_as(&server, "alice").await;
    let mut bob = connect_as(&server, "bob").await;
    alice.join("board.2").await;
    bob.join("board.2").await;
    alice
        .send(json!({"event": "touch", "channel": "board.2", "data": {}}))
        .await;
    assert_eq!(signalled(&mut bob).await["count"], 1);
    alice.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn signal_except_user_leaves_out_every_tab_of_the_writer() {
    let server = serve(jwt_settings());
    let (mut tab_a, mut tab_b, mut bob) = tabs(&server, "board.3").await;
    let path = "/boards/3/everywhere";
    let (status, body) = post_from(&server, path, "alice", &tab_a.connection_id).await;
    assert_eq!((status, &body["user"]), (200, &json!("alice")));
    assert_eq!(signalled(&mut bob).await["count"], 1);
    tab_a.assert_nothing_before(&server, "marker").await;
    tab_b.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}
