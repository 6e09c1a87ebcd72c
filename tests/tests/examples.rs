//! Every example in `examples/` runs and does what its header says. `cargo test` builds
//! the examples before running this (`cargo build --examples` when run alone).

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Client, http};
use serde_json::json;

/// A running example, stopped (SIGTERM, then checked to exit 0) when dropped.
struct Example {
    child: Child,
    line: String,
}

impl Example {
    /// Starts `name` with `env` and waits for its first line on stdout.
    fn start(name: &str, env: &[(&str, String)]) -> Self {
        let binary = examples_dir().join(name);
        let mut child = Command::new(&binary)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): cargo build --examples first",
                    binary.display()
                )
            });
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("a line");
        assert!(!line.is_empty(), "{name} exited before listening");
        Self { child, line }
    }

    /// SIGTERM: the example drains and exits 0.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").arg(&pid).status();
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "exit status {status}");
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/PROFILE/deps/examples-HASH -> target/PROFILE/examples
    exe.parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("examples"))
        .expect("a target directory")
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

async fn connect(addr: SocketAddr) -> Client {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connects");
    Client::after_handshake(ws).await
}

#[actix_web::test]
async fn minimal_is_a_chat() {
    let addr = free_addr();
    let example = Example::start("minimal", &[("EXAMPLE_BIND", addr.to_string())]);
    assert!(example.line.contains("chat on"), "{}", example.line);
    let mut ann = connect(addr).await;
    let mut ben = connect(addr).await;
    ann.join("chat.lobby").await;
    ben.join("chat.lobby").await;
    ann.send(json!({"event": "say", "channel": "chat.lobby", "data": {"text": "hi"}}))
        .await;
    let heard = ben.recv_event("said").await;
    assert_eq!(
        heard["data"],
        json!({"text": "hi", "from": ann.connection_id})
    );
    example.stop();
}

#[actix_web::test]
async fn embed_keeps_the_apps_routes_and_state_beside_the_socket() {
    let addr = free_addr();
    let example = Example::start("embed", &[("EXAMPLE_BIND", addr.to_string())]);
    let mut watcher = connect(addr).await;
    watcher.join("orders").await;
    let (status, body) = http(addr, "POST", "/orders", Some(&json!({"item": "tea"})), &[]).await;
    assert_eq!((status, body), (201, json!({"signalled": 1})));
    assert_eq!(
        watcher.recv_event("order-placed").await["data"],
        json!({"item": "tea"})
    );
    watcher
        .send(json!({"event": "count", "channel": "orders", "data": {}, "id": 1}))
        .await;
    assert_eq!(watcher.recv_event("ack").await["data"]["data"], 1);
    assert_eq!(
        http(addr, "GET", "/orders", None, &[]).await,
        (200, json!(["tea"]))
    );
    example.stop();
}

#[actix_web::test]
async fn cluster_delivers_across_its_two_nodes() {
    let redis = common::redis::RedisServer::start();
    // Node B takes the next port: find a pair that is free.
    let a = (0..50)
        .map(|_| free_addr())
        .find(|a| TcpListener::bind(SocketAddr::new(a.ip(), a.port() + 1)).is_ok())
        .expect("two free ports");
    let b = SocketAddr::new(a.ip(), a.port() + 1);
    let example = Example::start(
        "cluster",
        &[("EXAMPLE_BIND", a.to_string()), ("REDIS_URL", redis.url())],
    );
    assert!(example.line.contains("node B"), "{}", example.line);
    let mut on_a = connect(a).await;
    let mut on_b = connect(b).await;
    on_a.join("news").await;
    on_b.join("news").await;
    on_a.send(json!({"event": "say", "channel": "news", "data": {"text": "from A"}}))
        .await;
    let heard = tokio::time::timeout(Duration::from_secs(5), on_b.recv_event("said"))
        .await
        .expect("crosses Redis");
    assert_eq!(heard["data"], json!({"text": "from A"}));
    example.stop();
}
