//! The PostgreSQL source, against a PostgreSQL server of the test's own: committed
//! changes from any client signal the channel named from the row, once per subscriber
//! whatever the number of nodes; the writer is left out; a lost connection ends in
//! `resync`; a wrong table stops start-up.

mod common;

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use common::postgres::PostgresServer;
use common::redis::{RedisServer, node_with};
use common::writers::{post_from, tabs};
use common::{Client, connect_as, jwt_settings};
use serde_json::{Value, json};
use switchboard::config::{Secret, Settings, Watch};
use switchboard::postgres::tokio_postgres::{self, NoTls};
use switchboard::prelude::*;
use switchboard::{Initiator, Running, StartError, Switchboard};

use switchboard_app as _;

/// Anyone may watch a receipt.
#[derive(ChannelListener, Default)]
#[channel("receipt.{id}")]
struct Receipt;

#[channel_events]
impl Receipt {}

/// Settings that watch `receipts` on `receipt.{id}`, installing the trigger at start.
fn watching(pg: &PostgresServer) -> Settings {
    let mut settings = jwt_settings();
    settings.postgres.url = Secret::new(pg.url());
    settings.postgres.install_triggers = true;
    settings.watch = vec![Watch::new("receipts", "receipt.{id}", "receipt-changed")];
    settings
}

fn with_receipts() -> PostgresServer {
    let pg = PostgresServer::start();
    pg.psql("CREATE TABLE receipts (id int PRIMARY KEY, total int NOT NULL)");
    pg
}

async fn db(pg: &PostgresServer) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&pg.url(), NoTls)
        .await
        .expect("connects");
    actix_web::rt::spawn(connection);
    client
}

/// `POST /receipts/{id}` updates a receipt in a transaction marked with the caller's
/// initiator, as an application would.
async fn update(initiator: Initiator, id: web::Path<i32>, url: web::Data<String>) -> HttpResponse {
    let (mut client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .expect("connects");
    actix_web::rt::spawn(connection);
    let tx = client.transaction().await.expect("begins");
    switchboard::postgres::set_initiator(&tx, &initiator)
        .await
        .expect("marks");
    tx.execute(
        "UPDATE receipts SET total = total + 1 WHERE id = $1",
        &[&*id],
    )
    .await
    .expect("updates");
    tx.commit().await.expect("commits");
    HttpResponse::Ok().finish()
}

fn serve(settings: Settings, url: String) -> Running {
    Switchboard::builder(settings)
        .resolve_users(switchboard_app::user::Users)
        .build()
        .expect("valid settings")
        .start_with("127.0.0.1:0", move |cfg| {
            cfg.app_data(web::Data::new(url.clone()))
                .route("/receipts/{id}", web::post().to(update));
        })
        .expect("binds")
}

/// The next packet that is not a ping: a signal, or whatever else came first.
async fn next(client: &mut Client) -> Value {
    loop {
        let packet = client.recv().await;
        if packet["event"] != "ping" {
            return packet;
        }
    }
}

async fn signalled(client: &mut Client, channel: &str) {
    let packet = next(client).await;
    assert_eq!(
        (&packet["event"], &packet["channel"]),
        (&json!("receipt-changed"), &json!(channel)),
        "{packet}"
    );
}

#[actix_web::test]
async fn insert_update_and_delete_from_psql_each_signal_once_and_a_rollback_nothing() {
    let pg = with_receipts();
    let server = serve(watching(&pg), pg.url());
    let mut alice = connect_as(&server, "alice").await;
    for id in [1, 2, 3] {
        alice.join(&format!("receipt.{id}")).await;
    }
    pg.psql("INSERT INTO receipts VALUES (1, 10)");
    signalled(&mut alice, "receipt.1").await;
    pg.psql("UPDATE receipts SET total = 11 WHERE id = 1");
    signalled(&mut alice, "receipt.1").await;
    pg.psql("DELETE FROM receipts WHERE id = 1");
    signalled(&mut alice, "receipt.1").await;
    pg.psql("BEGIN; INSERT INTO receipts VALUES (2, 5); ROLLBACK;");
    pg.psql("INSERT INTO receipts VALUES (3, 5)");
    signalled(&mut alice, "receipt.3").await; // receipt.2 would have come first
    alice.assert_nothing_before(&server, "marker").await;
    let metrics = server
        .server()
        .metrics(switchboard::metrics::MetricsFormat::Prometheus);
    assert!(
        metrics.contains("switchboard_source_notifications_total 4"),
        "{metrics}"
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_thousand_writes_to_one_row_arrive_as_a_handful_of_signals() {
    let pg = with_receipts();
    pg.psql("INSERT INTO receipts VALUES (1, 0)");
    let server = serve(watching(&pg), pg.url());
    let mut alice = connect_as(&server, "alice").await;
    alice.join("receipt.1").await;
    let client = db(&pg).await;
    let started = Instant::now();
    for _ in 0..1000 {
        client
            .execute("UPDATE receipts SET total = total + 1 WHERE id = 1", &[])
            .await
            .expect("updates");
    }
    let took = started.elapsed();
    let (mut signals, mut counted) = (0u64, 0u64);
    while counted < 1000 {
        let packet = next(&mut alice).await;
        assert_eq!(packet["event"], "receipt-changed", "{packet}");
        signals += 1;
        counted += packet["data"]["count"].as_u64().expect("a count");
    }
    // One per 50 ms window the writes spanned, give or take one at each end.
    let windows = took.as_millis() as u64 / 50 + 2;
    assert!(
        signals <= windows,
        "{signals} signals for 1000 writes in {took:?}"
    );
    alice.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn the_transaction_s_initiator_is_left_out_and_a_forged_one_is_not() {
    let pg = with_receipts();
    pg.psql("INSERT INTO receipts VALUES (7, 0)");
    let server = serve(watching(&pg), pg.url());
    let (mut tab_a, mut tab_b, mut bob) = tabs(&server, "receipt.7").await;
    let post = |user: &'static str, socket: String| {
        let server = &server;
        async move { post_from(server, "/receipts/7", user, &socket).await.0 }
    };
    assert_eq!(post("alice", tab_a.connection_id.clone()).await, 200);
    signalled(&mut tab_b, "receipt.7").await;
    signalled(&mut bob, "receipt.7").await;
    tab_a.assert_nothing_before(&server, "marker").await;

    assert_eq!(post("bob", tab_a.connection_id.clone()).await, 200);
    for client in [&mut tab_a, &mut tab_b, &mut bob] {
        signalled(client, "receipt.7").await;
    }
    server.stop().await;
}

#[actix_web::test]
async fn except_user_leaves_out_every_connection_of_the_writer() {
    let pg = with_receipts();
    pg.psql("INSERT INTO receipts VALUES (8, 0)");
    let mut settings = watching(&pg);
    settings.watch = vec![Watch::new("receipts", "receipt.{id}", "receipt-changed").except_user()];
    let server = serve(settings, pg.url());
    let (mut tab_a, mut tab_b, mut bob) = tabs(&server, "receipt.8").await;
    let (status, _) = post_from(&server, "/receipts/8", "alice", &tab_a.connection_id).await;
    assert_eq!(status, 200);
    signalled(&mut bob, "receipt.8").await;
    tab_a.assert_nothing_before(&server, "marker").await;
    tab_b.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn a_signal_after_commit_waits_for_the_commit_and_dies_with_a_rollback() {
    let pg = with_receipts();
    let server = serve(watching(&pg), pg.url());
    let mut alice = connect_as(&server, "alice").await;
    alice.join("receipt.5").await;
    alice.join("receipt.6").await;
    let mut client = db(&pg).await;
    let tx = client.transaction().await.expect("begins");
    switchboard::postgres::signal_after_commit(&tx, "receipt.5", "receipt-changed")
        .await
        .expect("registers");
    tx.rollback().await.expect("rolls back");
    let tx = client.transaction().await.expect("begins");
    switchboard::postgres::signal_after_commit(&tx, "receipt.6", "receipt-changed")
        .await
        .expect("registers");
    tokio::time::sleep(Duration::from_millis(200)).await;
    alice.assert_nothing_before(&server, "before-commit").await;
    tx.commit().await.expect("commits");
    signalled(&mut alice, "receipt.6").await;
    alice.assert_nothing_before(&server, "marker").await;
    server.stop().await;
}

#[actix_web::test]
async fn two_nodes_each_listening_signal_every_subscriber_once() {
    let pg = with_receipts();
    let redis = RedisServer::start();
    let a = node_with(&redis, watching(&pg)).await;
    let b = node_with(&redis, watching(&pg)).await;
    let mut on_a = connect_as(&a, "alice").await;
    let mut on_b = connect_as(&b, "bob").await;
    on_a.join("receipt.9").await;
    on_b.join("receipt.9").await;
    pg.psql("INSERT INTO receipts VALUES (9, 1)");
    signalled(&mut on_a, "receipt.9").await;
    signalled(&mut on_b, "receipt.9").await;
    tokio::time::sleep(Duration::from_millis(200)).await; // a copy over Redis would be here by now
    on_a.assert_nothing_before(&a, "marker").await;
    on_b.assert_nothing_before(&b, "marker").await;
}

#[actix_web::test]
async fn a_restarted_database_ends_in_resync_and_signals_go_on() {
    let pg = with_receipts();
    let server = serve(watching(&pg), pg.url());
    let mut alice = connect_as(&server, "alice").await;
    alice.join("receipt.1").await;
    pg.restart();
    let packet = next(&mut alice).await;
    assert_eq!(packet["event"], "resync", "{packet}");
    assert_eq!(packet["channel"], "receipt.1");
    assert_eq!(packet["data"]["reason"], "source_lost");
    pg.psql("INSERT INTO receipts VALUES (1, 1)");
    signalled(&mut alice, "receipt.1").await;
    server.stop().await;
}

#[actix_web::test]
async fn an_unreadable_notification_is_counted_and_skipped() {
    let pg = with_receipts();
    let server = serve(watching(&pg), pg.url());
    let mut alice = connect_as(&server, "alice").await;
    alice.join("receipt.4").await;
    pg.psql("NOTIFY switchboard, 'not json'");
    pg.psql("INSERT INTO receipts VALUES (4, 1)");
    signalled(&mut alice, "receipt.4").await;
    let metrics = server
        .server()
        .metrics(switchboard::metrics::MetricsFormat::Prometheus);
    assert!(
        metrics.contains("switchboard_source_malformed_total 1"),
        "{metrics}"
    );
    server.stop().await;
}

#[actix_web::test]
async fn a_watch_naming_a_missing_table_or_column_stops_start_up() {
    let pg = with_receipts();
    let refused = |watch: Watch| {
        let mut settings = watching(&pg);
        settings.watch = vec![watch];
        let built = Switchboard::builder(settings)
            .resolve_users(switchboard_app::user::Users)
            .build();
        match built {
            Err(StartError::Config(e)) => e,
            Err(e) => panic!("another error: {e}"),
            Ok(_) => panic!("started"),
        }
    };
    let e = refused(Watch::new("invoices", "invoice.{id}", "changed"));
    assert_eq!(e.key(), Some("watch[0].table"), "{e}");
    assert!(e.to_string().contains("\"invoices\" does not exist"), "{e}");
    let e = refused(Watch::new("receipts", "receipt.{number}", "changed"));
    assert_eq!(e.key(), Some("watch[0].channel"), "{e}");
    assert!(e.to_string().contains("no column \"number\""), "{e}");
}
