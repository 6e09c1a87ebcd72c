//! A private `redis-server` per test, on a free port, killable to test faults.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` (installed by scripts/test.sh) on a free port.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut server = Self { port, child: None };
        server.spawn();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server abruptly, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server's process without closing its sockets (SIGSTOP): a Redis that
    /// is alive but does not answer. `thaw` resumes it.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill {signal} {pid}");
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    fn spawn(&mut self) {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): run `bash scripts/test.sh`, which installs it"
                )
            });
        self.child = Some(child);
        // Listening is not ready: Redis accepts connections while it still loads and
        // answers them with errors. Ready is the first PING answered with PONG.
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !answers_ping(addr) {
            assert!(
                Instant::now() < deadline,
                "redis-server on {addr} did not answer PING within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One `PING` on a fresh connection: true when the answer is `PONG`.
fn answers_ping(addr: SocketAddr) -> bool {
    matches!(command(addr, &["PING"]), Ok(Reply::Status(s)) if s == "PONG")
}

/// What Redis answered, as far as these tests need to read it.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Integer(i64),
    Bulk(Option<String>),
    Array(Vec<Reply>),
}

impl RedisServer {
    /// Sends one command on a fresh connection and returns the answer, to look at
    /// what Redis itself sees (subscriptions, publishes), not at the node's counters.
    pub fn query(&self, args: &[&str]) -> Reply {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        command(addr, args).unwrap_or_else(|e| panic!("redis {args:?}: {e}"))
    }

    /// The offset Redis has given the stream `name` (`feed.r1`, `#user:alice`) so far.
    pub fn stream_offset(&self, name: &str) -> u64 {
        let key = format!("switchboard:stream:{name}");
        match self.query(&["HGET", &key, "offset"]) {
            Reply::Bulk(Some(offset)) => offset.parse().unwrap_or(0),
            _ => 0,
        }
    }

    /// Waits until Redis has positioned `count` publications of stream `name`: sends are
    /// handed to each node's backplane queue, and reach Redis a moment later.
    pub async fn await_stream_offset(&self, name: &str, count: u64) {
        super::eventually(&format!("{name} at offset {count}"), || {
            self.stream_offset(name) >= count
        })
        .await;
    }

    /// The channels with at least one subscriber, matching `pattern`, sorted.
    pub fn channels(&self, pattern: &str) -> Vec<String> {
        match self.query(&["PUBSUB", "CHANNELS", pattern]) {
            Reply::Array(items) => {
                let mut names: Vec<String> = items
                    .into_iter()
                    .filter_map(|item| match item {
                        Reply::Bulk(Some(name)) => Some(name),
                        _ => None,
                    })
                    .collect();
                names.sort();
                names
            }
            other => panic!("PUBSUB CHANNELS answered {other:?}"),
        }
    }
}

impl RedisServer {
    /// A silent listener on `channel`: subscribed (Redis counts it as a receiver) and
    /// never answering, like a node that hears but is stuck. Unsubscribed when dropped.
    pub fn silent_subscriber(&self, channel: &str) -> TcpStream {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut stream = send(addr, &["SUBSCRIBE", channel]).expect("connects");
        let confirmed = read_reply(&mut BufReader::new(&mut stream)).expect("answers");
        assert!(matches!(confirmed, Reply::Array(_)), "{confirmed:?}");
        stream
    }
}

fn send(addr: SocketAddr, args: &[&str]) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes())?;
    Ok(stream)
}

fn command(addr: SocketAddr, args: &[&str]) -> std::io::Result<Reply> {
    read_reply(&mut BufReader::new(send(addr, args)?))
}

fn read_reply(reader: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let line = line.trim_end_matches("\r\n");
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, line.to_owned());
    let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
    let number = || rest.parse::<i64>().map_err(|_| bad());
    Ok(match kind {
        "+" => Reply::Status(rest.to_owned()),
        "-" => Reply::Error(rest.to_owned()),
        ":" => Reply::Integer(number()?),
        "$" => match usize::try_from(number()?) {
            Err(_) => Reply::Bulk(None),
            Ok(len) => {
                let mut data = vec![0; len + 2];
                reader.read_exact(&mut data)?;
                data.truncate(len);
                Reply::Bulk(Some(String::from_utf8_lossy(&data).into_owned()))
            }
        },
        "*" => match usize::try_from(number()?) {
            Err(_) => Reply::Array(Vec::new()),
            Ok(len) => Reply::Array(
                (0..len)
                    .map(|_| read_reply(reader))
                    .collect::<std::io::Result<_>>()?,
            ),
        },
        _ => return Err(bad()),
    })
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A node with the JWT middleware on the Redis backplane at `redis`, once it has
/// reached Redis.
pub async fn node(redis: &RedisServer) -> switchboard::Running {
    node_with(redis, super::jwt_settings()).await
}

/// [`node`] with settings of the test's own.
pub async fn node_with(
    redis: &RedisServer,
    mut settings: switchboard::config::Settings,
) -> switchboard::Running {
    settings.backplane.kind = switchboard::config::BackplaneKind::Redis;
    settings.backplane.url = switchboard::config::Secret::new(redis.url());
    let node = super::start(settings).await;
    let handle = node.server().clone();
    super::eventually("the node reaches redis", || {
        handle.backplane_stats().connected
    })
    .await;
    node
}
