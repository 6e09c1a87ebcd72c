//! The Redis backplane over TLS (cargo feature `redis-tls`): two nodes reach a
//! `redis-server` that listens only on a TLS port (a certificate made here with the
//! `openssl` command), and a broadcast crosses them.
//!
//! The URL's `#insecure` skips verifying the test's self-signed certificate (a
//! test-only feature of the redis crate, enabled in this crate's dev-dependencies);
//! everything else is the production path: rustls, its crypto provider, the handshake.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use switchboard::config::{BackplaneKind, Secret};
use switchboard::testing::{TestClient, TestError};

/// A `redis-server` listening only on a TLS port, killed when dropped.
struct TlsRedis {
    port: u16,
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

fn start_tls_redis() -> TlsRedis {
    let dir = std::env::temp_dir().join(format!("switchboard-redis-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.as_path();
    openssl(
        path,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=switchboard-test-ca",
        ],
    );
    openssl(
        path,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(path.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("writes");
    openssl(
        path,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--tls-cert-file",
            "server.crt",
            "--tls-key-file",
            "server.key",
        ])
        .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
        .args(["--save", "", "--appendonly", "no"])
        .current_dir(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server starts (installed by scripts/test.sh)");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "redis-server never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    TlsRedis { port, child, dir }
}

#[actix_web::test]
async fn two_nodes_share_broadcasts_over_rediss() -> Result<(), TestError> {
    let redis = start_tls_redis();
    let node = || {
        let mut settings = common::settings();
        settings.backplane.kind = BackplaneKind::Redis;
        settings.backplane.url =
            Secret::new(format!("rediss://127.0.0.1:{}/#insecure", redis.port));
        common::start(settings)
    };
    let (a, b) = (node().await, node().await);
    for running in [&a, &b] {
        let server = running.server().clone();
        common::eventually("the node reaches redis over TLS", || {
            server.backplane_stats().connected
        })
        .await;
    }
    let mut on_b = TestClient::connect(&b).await?;
    on_b.subscribe("global-chat").await?;
    a.server()
        .broadcast("global-chat", "message", &json!({"message": "over tls"}))?;
    let packet = on_b.expect_channel_event("global-chat", "message").await?;
    assert_eq!(packet["data"]["message"], "over tls");
    a.stop().await;
    b.stop().await;
    Ok(())
}
