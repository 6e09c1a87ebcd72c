//! Lifecycle hooks: a channel's `on_join` and `on_leave` run in its actor, in order with
//! its events; the builder's `on_connect` and `on_disconnect` see each connection open
//! and end, with its close code. Written with `switchboard::testing`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use switchboard::prelude::*;
use switchboard::testing::{self, TestClient, TestError};
use switchboard::{Running, Switchboard, SwitchboardBuilder};

const SECRET: &str = "a-test-secret-of-at-least-32-bytes!";

/// What happened, in the order the hooks and events saw it.
#[derive(Debug, Default, Clone)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, entry: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    fn entries(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` entries are in (hooks run a moment after what caused them).
    async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..250 {
            if self.entries().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.entries()
    }
}

fn who(conn: &Connection) -> String {
    conn.user_id().unwrap_or("anonymous").to_owned()
}

/// Logs every join, leave and `say`, and greets each newcomer on the channel.
#[derive(ChannelListener, Default)]
#[channel("hall.{id}")]
struct Hall;

#[channel_events]
impl Hall {
    async fn on_join(
        &self,
        ctx: EventContext,
        conn: &Connection,
        log: State<Log>,
    ) -> Result<(), SocketError> {
        log.push(format!("join {}", who(conn)));
        ctx.broadcast_except_sender("arrived", &json!({ "user": who(conn) }))?;
        Ok(())
    }

    async fn on_leave(&self, conn: &Connection, reason: LeaveReason, log: State<Log>) {
        let detail = match reason {
            LeaveReason::Disconnected { code } => format!("disconnected {code:?}"),
            other => other.as_str().to_owned(),
        };
        log.push(format!("leave {} {detail}", who(conn)));
    }

    pub async fn say(&self, conn: &Connection, log: State<Log>) {
        log.push(format!("say {}", who(conn)));
    }
}

fn builder(log: &Log) -> SwitchboardBuilder {
    Switchboard::builder(testing::jwt_settings(SECRET)).state(log.clone())
}

async fn connect_as(server: &Running, user: &str) -> Result<TestClient, TestError> {
    TestClient::connect_with_token(server, &testing::dev_token(SECRET, user)?).await
}

#[actix_web::test]
async fn joins_and_leaves_are_seen_in_order_with_the_channels_events() -> Result<(), TestError> {
    let log = Log::default();
    let server = testing::start(builder(&log))?;
    let mut ann = connect_as(&server, "ann").await?;
    let mut ben = connect_as(&server, "ben").await?;

    ann.subscribe("hall.1").await?;
    ann.emit_with_ack("hall.1", "say", json!({})).await?;
    ben.subscribe("hall.1").await?;
    // on_join's broadcast reached ann, not ben himself.
    let arrived = ann.expect_channel_event("hall.1", "arrived").await?;
    assert_eq!(arrived["data"]["user"], "ben");
    ben.emit_with_ack("hall.1", "say", json!({})).await?;
    ann.unsubscribe("hall.1").await?;
    ben.close().await?;

    let entries = log.wait_for(6).await;
    assert_eq!(
        entries,
        [
            "join ann",
            "say ann",
            "join ben",
            "say ben",
            "leave ann unsubscribed",
            "leave ben disconnected Some(1000)",
        ],
    );
    ann.assert_nothing_before(&server, "marker").await?;
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn a_refused_subscribe_runs_no_hook_and_a_repeated_one_runs_on_join_once()
-> Result<(), TestError> {
    /// Lets nobody in.
    #[derive(ChannelListener, Default)]
    #[channel("closed.{id}")]
    struct Closed;

    #[channel_events]
    impl Closed {
        async fn is_authorised(&self) -> bool {
            false
        }

        async fn on_join(&self, log: State<Log>) {
            log.push("join closed".to_owned());
        }

        async fn on_leave(&self, log: State<Log>) {
            log.push("leave closed".to_owned());
        }
    }

    let log = Log::default();
    let server = testing::start(builder(&log))?;
    let mut ann = connect_as(&server, "ann").await?;
    assert!(ann.subscribe("closed.1").await.is_err());
    ann.subscribe("hall.2").await?;
    ann.subscribe("hall.2").await?; // already joined: no second on_join
    ann.emit_with_ack("hall.2", "say", json!({})).await?;
    drop(ann); // the TCP connection ends without a close handshake

    let entries = log.wait_for(3).await;
    assert_eq!(
        entries,
        ["join ann", "say ann", "leave ann disconnected None"],
    );
    server.stop().await;
    Ok(())
}

#[actix_web::test]
async fn on_connect_and_on_disconnect_see_each_connection_with_its_close_code()
-> Result<(), TestError> {
    let log = Log::default();
    let (connects, disconnects) = (log.clone(), log.clone());
    let server = testing::start(
        builder(&log)
            .on_connect(move |conn| {
                let log = connects.clone();
                async move {
                    // Slow on purpose: on_disconnect still comes after it.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    log.push(format!("connect {}", who(&conn)));
                }
            })
            .on_disconnect(move |conn, ending| {
                let log = disconnects.clone();
                async move { log.push(format!("disconnect {} {:?}", who(&conn), ending.code())) }
            }),
    )?;
    let ann = connect_as(&server, "ann").await?;
    ann.close().await?;
    assert_eq!(
        log.wait_for(2).await,
        ["connect ann", "disconnect ann Some(1000)"]
    );

    // A connection the server closes: the token expires (4001).
    let expiring = testing::dev_token_with_claims(SECRET, "ben", json!({ "exp": now() + 1 }))?;
    let mut ben = TestClient::connect_with_token(&server, &expiring).await?;
    ben.set_timeout(Duration::from_secs(10));
    assert_eq!(ben.expect_close().await?, Some(4001));
    assert_eq!(
        log.wait_for(4).await[2..],
        ["connect ben", "disconnect ben Some(4001)"]
    );
    server.stop().await;
    Ok(())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
