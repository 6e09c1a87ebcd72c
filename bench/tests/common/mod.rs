//! What the smoke tests start: the framework server in process, and a private Redis.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use switchboard_bench::{DEFAULT_SECRET, server};
use tokio::sync::oneshot;

/// The framework server on its own actix system thread; stopped when dropped.
pub struct FrameworkServer {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl FrameworkServer {
    /// One node; on the Redis backplane at `redis` when given.
    pub fn start(redis: Option<&str>) -> Self {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let redis = redis.map(str::to_owned);
        let thread = thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut settings = server::settings(DEFAULT_SECRET);
                settings.server.workers = 1;
                if let Some(url) = &redis {
                    server::use_redis(&mut settings, url);
                }
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

/// A `redis-server` of this test's own on a free loopback port, never a Redis that
/// happens to run on the machine; killed when dropped.
pub struct Redis {
    pub url: String,
    child: Child,
}

impl Redis {
    /// Starts one; panics (never skips) when `redis-server` is not installed.
    pub fn start() -> Self {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server runs (apt-get install redis-server; scripts/test.sh does)");
            for _ in 0..100 {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self {
                        url: format!("redis://127.0.0.1:{port}"),
                        child,
                    };
                }
                if child.try_wait().ok().flatten().is_some() {
                    break; // exited: the port was taken meanwhile; try another
                }
                thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on a free loopback port");
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
