//! Two nodes in one process on `switchboard::testing::Broker`: broadcasts cross them,
//! and a node cut off (partition) or losing publications (loss) still delivers every
//! publication of a stream, in order, repaired from the history.

mod common;

use serde_json::json;
use switchboard::prelude::*;
use switchboard::testing::{self, Broker, TestClient, TestError};
use switchboard::{Running, Switchboard};

use common::eventually;
use switchboard_app as _;

/// A stream that keeps its last 100 publications.
#[derive(ChannelListener, Default)]
#[channel("feed.{id}", history(size = 100, ttl = "10m"))]
struct Feed;

#[channel_events]
impl Feed {}

/// Two nodes on one broker, both connected to it.
async fn two_nodes(broker: &Broker) -> Result<(Running, Running), TestError> {
    let node = || {
        testing::start(
            Switchboard::builder(testing::settings())
                .resolve_users(switchboard_app::user::Users)
                .backplane(broker.clone()),
        )
    };
    let (a, b) = (node()?, node()?);
    eventually("both nodes connect to the broker", || {
        broker.is_connected(&a) && broker.is_connected(&b)
    })
    .await;
    Ok((a, b))
}

fn publish(node: &Running, channel: &str, n: u64) -> Result<(), TestError> {
    node.server()
        .broadcast(channel, "message", &json!({ "n": n }))?;
    Ok(())
}

/// The next `count` stream publications' `n`, in arrival order; a `resync` fails.
async fn numbers(client: &mut TestClient, count: usize) -> Result<Vec<u64>, TestError> {
    let mut seen = Vec::new();
    while seen.len() < count {
        let packet = client.next_packet().await?;
        assert_ne!(packet["event"], "resync", "{packet}");
        assert_eq!(packet["offset"], packet["data"]["n"], "{packet}");
        seen.push(packet["data"]["n"].as_u64().unwrap_or_default());
    }
    Ok(seen)
}

#[actix_web::test]
async fn a_broadcast_crosses_two_nodes() -> Result<(), TestError> {
    let broker = Broker::new();
    let (a, b) = two_nodes(&broker).await?;
    let mut on_a = TestClient::connect(&a).await?;
    let mut on_b = TestClient::connect(&b).await?;
    on_a.subscribe("global-chat").await?;
    on_b.subscribe("global-chat").await?;
    on_a.emit("global-chat", "message", json!({"message": "hi"}))
        .await?;
    let packet = on_b.expect_channel_event("global-chat", "message").await?;
    assert_eq!(packet["data"]["message"], "hi");
    on_a.expect_event("message").await?;
    on_b.assert_nothing_before(&b, "marker").await?;
    assert_eq!(a.server().backplane_stats().kind, "in-process");
    a.stop().await;
    b.stop().await;
    Ok(())
}

#[actix_web::test]
async fn a_partitioned_node_catches_up_on_its_streams_after_healing() -> Result<(), TestError> {
    let broker = Broker::new();
    let (a, b) = two_nodes(&broker).await?;
    let mut on_b = TestClient::connect(&b).await?;
    let joined = on_b.subscribe("feed.p").await?;
    assert_eq!(joined["offset"], 0, "{joined}");
    publish(&a, "feed.p", 1)?;
    assert_eq!(numbers(&mut on_b, 1).await?, [1]);

    broker.partition(&b);
    eventually("b sees its link lost", || {
        !b.server().backplane_stats().connected
    })
    .await;
    for n in 2..=4 {
        publish(&a, "feed.p", n)?;
    }
    on_b.assert_nothing_before(&b, "marker").await?;
    let connects = b.server().backplane_stats().connects;
    broker.heal(&b);
    assert_eq!(
        numbers(&mut on_b, 3).await?,
        [2, 3, 4],
        "missed ones, in order"
    );
    assert!(
        b.server().backplane_stats().connects > connects,
        "b reconnected"
    );
    publish(&a, "feed.p", 5)?;
    assert_eq!(numbers(&mut on_b, 1).await?, [5], "then live ones");
    on_b.assert_nothing_before(&b, "marker").await?;
    a.stop().await;
    b.stop().await;
    Ok(())
}

#[actix_web::test]
async fn a_publication_lost_on_the_way_is_repaired_from_the_history() -> Result<(), TestError> {
    let broker = Broker::new();
    let (a, b) = two_nodes(&broker).await?;
    let mut on_a = TestClient::connect(&a).await?;
    let mut on_b = TestClient::connect(&b).await?;
    on_a.subscribe("feed.l").await?;
    on_b.subscribe("feed.l").await?;
    on_b.subscribe("global-chat").await?;

    // b has delivered publication 1: it knows where the stream stands.
    publish(&a, "feed.l", 1)?;
    assert_eq!(numbers(&mut on_a, 1).await?, [1]);
    assert_eq!(numbers(&mut on_b, 1).await?, [1]);

    broker.drop_next(&b, 1);
    publish(&a, "feed.l", 2)?;
    // a delivers a stream's publications as the broker publishes them: 2 has passed.
    assert_eq!(numbers(&mut on_a, 1).await?, [2]);
    // A later message on b's link, where publication 2 would have come before it.
    a.server()
        .broadcast("global-chat", "message", &json!({"message": "after"}))?;
    let next = on_b.next_packet().await?;
    assert_eq!(
        (next["channel"].as_str(), next["data"]["message"].as_str()),
        (Some("global-chat"), Some("after")),
        "publication 2 was lost: {next}"
    );
    // The next publication shows the gap; b reads 2 from the history, then delivers 3.
    publish(&a, "feed.l", 3)?;
    assert_eq!(numbers(&mut on_b, 2).await?, [2, 3]);
    on_b.assert_nothing_before(&b, "marker").await?;
    a.stop().await;
    b.stop().await;
    Ok(())
}

/// The very first publication after a node's first subscriber joined is the one lost:
/// the node knows the stream's position from that subscriber's join, so the next
/// publication still shows the gap.
#[actix_web::test]
async fn the_first_publication_lost_after_a_join_is_repaired_too() -> Result<(), TestError> {
    let broker = Broker::new();
    let (a, b) = two_nodes(&broker).await?;
    let mut on_a = TestClient::connect(&a).await?;
    let mut on_b = TestClient::connect(&b).await?;
    on_a.subscribe("feed.f").await?;
    on_b.subscribe("feed.f").await?;
    on_b.subscribe("global-chat").await?;
    broker.drop_next(&b, 1);
    publish(&a, "feed.f", 1)?;
    // a delivers a stream's publications as the broker publishes them: 1 has passed.
    assert_eq!(numbers(&mut on_a, 1).await?, [1]);
    a.server()
        .broadcast("global-chat", "message", &json!({"message": "after"}))?;
    let next = on_b.next_packet().await?;
    assert_eq!(
        next["channel"], "global-chat",
        "publication 1 was lost: {next}"
    );
    publish(&a, "feed.f", 2)?;
    assert_eq!(numbers(&mut on_b, 2).await?, [1, 2]);
    on_b.assert_nothing_before(&b, "marker").await?;
    a.stop().await;
    b.stop().await;
    Ok(())
}

/// A link that loses a third of what is sent to it, at random: every publication still
/// reaches the subscriber, in order, each lost one read back from the history when the
/// next one shows the gap.
#[actix_web::test]
async fn a_lossy_link_still_delivers_every_publication_in_order() -> Result<(), TestError> {
    let broker = Broker::with_seed(17);
    let (a, b) = two_nodes(&broker).await?;
    let mut on_a = TestClient::connect(&a).await?;
    let mut on_b = TestClient::connect(&b).await?;
    on_a.subscribe("feed.lossy").await?;
    on_b.subscribe("feed.lossy").await?;

    broker.set_loss(&b, 0.3);
    for n in 1..=80 {
        publish(&a, "feed.lossy", n)?;
    }
    assert_eq!(numbers(&mut on_a, 80).await?, (1..=80).collect::<Vec<_>>());
    let received = b.server().backplane_stats().received;
    // The last publication may be the lost one: a reliable one after it shows the gap.
    broker.set_loss(&b, 0.0);
    publish(&a, "feed.lossy", 81)?;
    assert_eq!(numbers(&mut on_b, 81).await?, (1..=81).collect::<Vec<_>>());
    on_b.assert_nothing_before(&b, "marker").await?;
    assert!(
        received <= 70,
        "the link lost about a third of the 80 publications, b received {received}"
    );
    a.stop().await;
    b.stop().await;
    Ok(())
}

/// A stream that keeps 2 publications for a second.
#[derive(ChannelListener, Default)]
#[channel("brief.{id}", history(size = 2, ttl = "1s"))]
struct Brief;

#[channel_events]
impl Brief {}

#[actix_web::test]
async fn the_broker_caps_and_expires_histories_as_redis_does() -> Result<(), TestError> {
    let broker = Broker::new();
    let (a, b) = two_nodes(&broker).await?;
    let mut on_b = TestClient::connect(&b).await?;
    on_b.subscribe("brief.x").await?;
    publish(&a, "brief.x", 1)?;
    let first = on_b.expect_event("message").await?;
    assert_eq!(first["offset"], 1);

    // Three missed, two kept: the gap cannot be repaired.
    broker.partition(&b);
    eventually("b sees its link lost", || {
        !b.server().backplane_stats().connected
    })
    .await;
    for n in 2..=4 {
        publish(&a, "brief.x", n)?;
    }
    broker.heal(&b);
    let resync = on_b.expect_event("resync").await?;
    assert_eq!(
        resync["data"],
        json!({"reason": "gap", "offset": 4, "epoch": resync["data"]["epoch"]}),
        "{resync}"
    );

    // A second without publications: the stream is gone, the next one starts an epoch.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    publish(&a, "brief.x", 5)?;
    let resync = on_b.expect_event("resync").await?;
    assert_eq!(resync["data"]["reason"], "history_lost", "{resync}");
    let next = on_b.expect_event("message").await?;
    assert_eq!(
        (next["offset"].as_u64(), next["data"]["n"].as_u64()),
        (Some(1), Some(5))
    );
    assert_eq!(next["epoch"], resync["data"]["epoch"]);
    assert_ne!(next["epoch"], first["epoch"], "a new epoch");
    on_b.assert_nothing_before(&b, "marker").await?;
    a.stop().await;
    b.stop().await;
    Ok(())
}
