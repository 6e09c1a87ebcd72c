//! Application state in listeners (`State<T>`), custom extractors, and
//! `web::Data<SocketServer>` for plain actix handlers.

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{HttpResponse, web};
use common::*;
use serde_json::json;
use switchboard::prelude::*;
use switchboard::{FromInvocation, Invocation, SocketServer, StartError, Switchboard};

/// A counter shared by every channel and connection.
#[derive(Default)]
struct Counter {
    total: AtomicU64,
}

/// Who may join `tally.{id}`.
struct Allowed {
    users: Mutex<HashSet<String>>,
}

/// A custom extractor: the caller's connection id.
struct CallerId(String);

impl FromInvocation for CallerId {
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError> {
        Ok(Self(invocation.connection().id().to_string()))
    }
}

#[derive(ChannelListener, Default, Debug)]
#[channel("tally.{id}")]
struct Tally;

#[channel_events]
impl Tally {
    async fn is_authorised(&self, allowed: State<Allowed>, conn: &Connection) -> bool {
        let allowed = allowed
            .users
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        conn.user_id().is_some_and(|user| allowed.contains(user))
    }

    pub async fn add(
        &self,
        counter: State<Counter>,
        caller: CallerId,
        packet: Packet<u64>,
    ) -> Result<serde_json::Value, SocketError> {
        let total = counter.total.fetch_add(packet.data, Ordering::Relaxed) + packet.data;
        Ok(json!({ "total": total, "by": caller.0 }))
    }
}

#[derive(SocketListener, Default, Debug)]
#[event("count")]
struct Count;

#[socket_handler]
impl Count {
    async fn handle(&self, counter: State<Counter>) -> Result<u64, SocketError> {
        Ok(counter.total.load(Ordering::Relaxed))
    }
}

fn with_state() -> switchboard::SwitchboardBuilder {
    let allowed = Allowed {
        users: Mutex::new(["ann".to_owned()].into()),
    };
    Switchboard::builder(jwt_settings())
        .resolve_users(switchboard_app::user::Users)
        .state(Counter::default())
        .state(allowed)
}

#[actix_web::test]
async fn hooks_and_events_receive_the_registered_state() {
    let server = with_state()
        .build()
        .expect("builds")
        .start("127.0.0.1:0")
        .expect("binds");
    let mut ann = connect_as(&server, "ann").await;
    ann.join("tally.1").await;
    ann.send(json!({"event": "add", "channel": "tally.1", "data": 5, "id": 1}))
        .await;
    let ack = ann.recv_event("ack").await;
    assert_eq!(
        ack["data"]["data"],
        json!({"total": 5, "by": ann.connection_id})
    );
    ann.send(json!({"event": "count", "data": {}, "id": 2}))
        .await;
    assert_eq!(ann.recv_event("ack").await["data"]["data"], 5);

    // The hook reads the same state: bob is not on the list.
    let mut bob = connect_as(&server, "bob").await;
    let refused = bob.subscribe("tally.1").await;
    assert_eq!(refused["successful"], false, "{refused}");
    server.stop().await;
}

#[actix_web::test]
async fn a_missing_state_stops_the_start_naming_the_listener_and_the_type() {
    let error = Switchboard::builder(jwt_settings())
        .resolve_users(switchboard_app::user::Users)
        .state(Counter::default())
        .build()
        .expect_err("Allowed is missing");
    assert!(matches!(error, StartError::Registry(_)), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("`Tally`") && text.contains("State<state::Allowed>"),
        "{text}"
    );
}

#[actix_web::test]
async fn plain_actix_handlers_can_send_through_web_data() {
    async fn announce(server: web::Data<SocketServer>) -> HttpResponse {
        let delivered = server
            .broadcast("room.1", "news", &json!({"from": "http"}))
            .unwrap_or_default();
        HttpResponse::Ok().json(json!({ "delivered": delivered }))
    }
    let server = with_state()
        .build()
        .expect("builds")
        .start_with("127.0.0.1:0", |cfg| {
            cfg.route("/announce", web::post().to(announce));
        })
        .expect("binds");
    let mut ann = connect_as(&server, "ann").await;
    ann.join("room.1").await;
    let (status, body) = http(server.addr(), "POST", "/announce", None, &[]).await;
    assert_eq!((status, body), (200, json!({"delivered": 1})));
    assert_eq!(
        ann.recv_event("news").await["data"],
        json!({"from": "http"})
    );
    server.stop().await;
}
