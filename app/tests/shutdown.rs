//! SIGTERM on the running demo: clients get 1001 and the process exits 0 within the
//! drain period.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "shutdown-test-secret-of-at-least-32-bytes";

fn token(sub: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": sub, "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("signs")
}

#[tokio::test]
async fn sigterm_closes_clients_with_1001_and_exits_zero() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut app = Command::new(env!("CARGO_BIN_EXE_switchboard-app"))
        .env("SWITCHBOARD__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD__SERVER__WORKERS", "1")
        .env("SWITCHBOARD__SERVER__DRAIN_SECS", "3")
        .env("SWITCHBOARD_DEMO__DEV_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the demo starts");
    let url = |sub: &str| format!("ws://127.0.0.1:{port}/ws?token={}", token(sub));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut clients = Vec::new();
    for user in ["ann", "ben"] {
        let ws = loop {
            match tokio_tungstenite::connect_async(url(user)).await {
                Ok((ws, _)) => break ws,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => {
                    let _ = app.kill();
                    panic!("the demo never accepted a connection: {e}");
                }
            }
        };
        clients.push(ws);
    }
    for ws in &mut clients {
        let ready = ws.next().await.expect("a frame").expect("ok");
        assert!(ready.to_text().unwrap_or_default().contains("\"ready\""));
    }

    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &app.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());

    for ws in &mut clients {
        let code = loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) => break u16::from(frame.code),
                Ok(Some(Ok(_))) => {}
                other => {
                    let _ = app.kill();
                    panic!("expected a close frame, got {other:?}");
                }
            }
        };
        assert_eq!(code, 1001);
    }
    let exit = loop {
        if let Some(exit) = app.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "still running past the drain period"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    println!("exited {exit} after {:?}", signalled.elapsed());
    assert!(exit.success(), "exit status {exit}");
}
