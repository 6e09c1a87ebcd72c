//! A smoke run of every scenario (S1..S4) at tiny size against both servers, in
//! process: 20 subscribers, about a second each. It checks that every run delivers
//! everything exactly once; speed is the benchmark's business (`BENCHMARKS.md`), not
//! this test's.

use std::thread;
use std::time::Duration;

use switchboard_bench::loadgen::{self, Config, SCENARIOS};
use switchboard_bench::report::Report;
use switchboard_bench::{DEFAULT_SECRET, Target, raw, server};
use tokio::sync::oneshot;

/// The framework server on its own actix system thread; stopped when dropped.
struct FrameworkServer {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl FrameworkServer {
    fn start() -> Self {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut settings = server::settings(DEFAULT_SECRET);
                settings.server.workers = 1;
                let running = server::build(settings)
                    .expect("bench settings are valid")
                    .start("127.0.0.1:0")
                    .expect("binds");
                url_tx
                    .send(running.ws_url())
                    .expect("test waits for the url");
                let _ = stop_rx.await;
                running.stop().await;
            });
        });
        let url = url_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server started");
        Self {
            url,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for FrameworkServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn check(report: &Report) {
    eprint!("{}", report.summary());
    let what = format!("{} {}", report.scenario, report.target);
    assert_eq!(report.connect_failures, 0, "{what}: connections failed");
    assert_eq!(report.connected, report.subscribers, "{what}");
    assert_eq!(report.closed_early, 0, "{what}: connections closed early");
    assert_eq!(report.lost, 0, "{what}: lost deliveries");
    assert_eq!(report.duplicated, 0, "{what}: duplicated deliveries");
    assert_eq!(report.misrouted, 0, "{what}: misrouted deliveries");
    if report.publishers > 0 {
        assert!(report.sent > 0, "{what}: nothing was published");
        assert_eq!(report.delivered, report.expected, "{what}");
        assert!(report.latency.count > 0, "{what}: no latency measured");
    }
    assert!(
        report.rss_per_conn_bytes.is_some(),
        "{what}: memory not read"
    );
}

async fn smoke_all(target: Target, url: &str) {
    for scenario in SCENARIOS {
        let mut config = Config::smoke(scenario, target, url).expect("known scenario");
        config.secret = DEFAULT_SECRET.to_owned();
        // Both servers run in this process: its memory stands in for the server's.
        config.server_pid = Some(std::process::id());
        let report = loadgen::run(&config).await.expect("run completes");
        check(&report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_delivers_exactly_once_through_the_framework() {
    let server = FrameworkServer::start();
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
