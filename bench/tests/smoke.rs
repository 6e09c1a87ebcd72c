//! A smoke run of every scenario at tiny size, in process: 20 subscribers, about a
//! second each, against both servers (S1..S4), and S5 against two framework nodes on
//! a Redis this test starts. It checks that every run delivers everything exactly
//! once and in order; speed is the benchmark's business (`BENCHMARKS.md`), not this
//! test's.

mod common;

use common::{FrameworkServer, Redis};
use switchboard_bench::loadgen::{self, Config};
use switchboard_bench::report::Report;
use switchboard_bench::{DEFAULT_SECRET, Target, raw};

/// The scenarios one server runs (S5 needs two nodes).
const ONE_NODE: [&str; 4] = ["S1", "S2", "S3", "S4"];

fn check(report: &Report) {
    eprint!("{}", report.summary());
    let what = format!("{} {}", report.scenario, report.target);
    assert_eq!(report.connect_failures, 0, "{what}: connections failed");
    assert_eq!(report.connected, report.subscribers, "{what}");
    assert_eq!(report.closed_early, 0, "{what}: connections closed early");
    assert_eq!(report.lost, 0, "{what}: lost deliveries");
    assert_eq!(report.duplicated, 0, "{what}: duplicated deliveries");
    assert_eq!(report.reordered, 0, "{what}: reordered deliveries");
    assert_eq!(report.misrouted, 0, "{what}: misrouted deliveries");
    if report.publishers > 0 {
        assert!(report.sent > 0, "{what}: nothing was published");
        assert_eq!(report.delivered, report.expected, "{what}");
        assert_eq!(report.latency.count, report.delivered, "{what}: latencies");
    }
    assert!(
        report.rss_per_conn_bytes.is_some(),
        "{what}: memory not read"
    );
}

fn smoke_config(scenario: &str, target: Target, url: &str) -> Config {
    let mut config = Config::smoke(scenario, target, url).expect("known scenario");
    config.secret = DEFAULT_SECRET.to_owned();
    // The servers run in this process: its memory stands in for the server's.
    config.server_pid = Some(std::process::id());
    config
}

async fn smoke_all(target: Target, url: &str) {
    for scenario in ONE_NODE {
        let report = loadgen::run(&smoke_config(scenario, target, url))
            .await
            .expect("run completes");
        check(&report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_delivers_exactly_once_through_the_framework() {
    let server = FrameworkServer::start(None);
    smoke_all(Target::Framework, &server.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_delivers_exactly_once_through_the_raw_baseline() {
    let listener = raw::bind(([127, 0, 0, 1], 0).into()).expect("binds");
    let addr = listener.local_addr().expect("bound");
    let server = tokio::spawn(raw::serve(listener));
    smoke_all(Target::Raw, &format!("ws://{addr}/")).await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_redis_deliver_exactly_once() {
    let redis = Redis::start();
    let (a, b) = (
        FrameworkServer::start(Some(&redis.url)),
        FrameworkServer::start(Some(&redis.url)),
    );
    let mut config = smoke_config("S5", Target::Framework, &a.url);
    config.url_b = Some(b.url.clone());
    let report = loadgen::run(&config).await.expect("run completes");
    check(&report);
    drop((a, b));
}
