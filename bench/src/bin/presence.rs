//! `presence [--members 10000] [--mode members|counts|plain] [--redis URL] [--redis-pid PID]
//! [--requests 200]`
//!
//! What presence costs: starts `bench-server` (built beside this binary; with `--redis`
//! on the Redis backplane), connects `--members` distinct users, then measures
//!
//! 1. join: every one of them subscribes to one presence channel (`lobby.1` with
//!    members, `hall.1` with counts only) at once, until an observer's
//!    `presence-request` counts them all, and (members) until every `presence-join`
//!    has been delivered: wall time, and the server's CPU (plus Redis's, given its pid);
//! 2. `presence-request` on the full channel, one after another: latency and size;
//! 3. leave: everyone disconnects at once, until the observer counts none of them.
//!
//! `--mode plain` joins a channel without presence (`bench.1`): the baseline of step 1
//! (a subscription's own cost), without steps 2 and 3.
//!
//! Prints a Markdown table. Not part of CI: run it in release
//! (`cargo run --release -p switchboard-bench --bin presence -- --members 10000`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use switchboard_bench::Target;
use switchboard_bench::args::Args;
use switchboard_bench::loadgen::client as wsclient;
use switchboard_bench::proc;
use switchboard_bench::token::Minter;
use switchboard_bench::wire::Opcode;
use switchboard_bench::wire::client::{Client, FrameWriter, Url};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

/// Connections opened (or subscribed) at once.
const CONCURRENCY: usize = 256;
/// How long the join's fan-out must be quiet to count as delivered.
const QUIET: Duration = Duration::from_secs(1);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("presence: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Server (and Redis) CPU seconds so far.
fn cpu(pids: &[u32]) -> f64 {
    pids.iter().filter_map(|pid| proc::cpu_secs(*pid)).sum()
}

async fn run() -> Result<(), String> {
    let args = Args::from_env()?;
    let members: usize = args.get_or("members", 10_000)?;
    let mode: String = args.get_or("mode", "members".to_owned())?;
    let requests: usize = args.get_or("requests", 200)?;
    let redis: Option<String> = args.get("redis")?;
    let channel = match mode.as_str() {
        "members" => "lobby.1",
        "counts" => "hall.1",
        "plain" => "bench.1",
        other => return Err(format!("--mode is members or counts, not {other}")),
    };
    let (mut child, pid, url) = start_server(redis.as_deref())?;
    let mut pids = vec![pid];
    pids.extend(args.get::<u32>("redis-pid")?);
    let url: Url = url.parse()?;
    let minter = Minter::new(&switchboard_bench::secret_from_env());
    let token = |sub: &str| minter.token(sub).map_err(|e| e.to_string());

    let mut observer = wsclient::connect(Target::Framework, &url, Some(&token("observer")?))
        .await
        .map_err(|e| e.to_string())?;
    let plain = mode == "plain";
    wsclient::subscribe(Target::Framework, &mut observer, channel)
        .await
        .map_err(|e| e.to_string())?;
    let mut observer = Observer::start(observer);

    // Connected, not yet joined: the handshakes are not what this measures.
    let tokens: Vec<String> = (0..members)
        .map(|i| token(&format!("member-{i}")))
        .collect::<Result<_, _>>()?;
    let clients: Vec<Client> = futures_util::stream::iter(tokens.iter())
        .map(|t| wsclient::connect(Target::Framework, &url, Some(t)))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;

    // 1. Everyone joins at once.
    let subscribed = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let frames = Arc::new(AtomicU64::new(0));
    let request =
        format!(r#"{{"event":"subscribe-channel-request","data":{{"channel":"{channel}"}}}}"#);
    let (cpu0, started) = (cpu(&pids), Instant::now());
    let mut readers = Vec::with_capacity(members);
    for mut client in clients {
        let (subscribed, frames, request) = (subscribed.clone(), frames.clone(), request.clone());
        let closed = closed.clone();
        readers.push(tokio::spawn(async move {
            if client
                .writer
                .send(Opcode::Text, request.as_bytes())
                .await
                .is_err()
            {
                return;
            }
            while let Ok((opcode, payload)) = client.reader.next_owned().await {
                match opcode {
                    Opcode::Ping => {
                        let _ = client.writer.send(Opcode::Pong, &payload).await;
                    }
                    Opcode::Close => break,
                    _ if payload.starts_with(br#"{"event":"subscribe-channel-response""#) => {
                        subscribed.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        frames.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            closed.fetch_add(1, Ordering::Relaxed); // e.g. 4008: it did not keep up
        }));
    }
    while subscribed.load(Ordering::Relaxed) + closed.load(Ordering::Relaxed) < members {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let answered = started.elapsed();
    if plain {
        let cpu_answered = cpu(&pids) - cpu0;
        println!("| {members} users join a channel without presence | value |\n|---|---|");
        println!(
            "| join: all subscribed (answered) | {:.2} s, server CPU {:.2} s ({:.0} µs per join) |",
            answered.as_secs_f64(),
            cpu_answered,
            cpu_answered * 1e6 / members as f64
        );
        let _ = Command::new("kill").arg(pid.to_string()).status();
        let _ = child.wait();
        return Ok(());
    }
    // Connections the server closed as slow consumers are gone from the count too.
    let still_open = || members + 1 - closed.load(Ordering::Relaxed);
    let (counted, _) = observer.until_count(channel, still_open).await?;
    let counted_at = started.elapsed();
    let cpu_counted = cpu(&pids) - cpu0;
    // The fan-out of joins (members mode): done once no frame arrived for QUIET.
    let mut last = frames.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < QUIET {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = frames.load(Ordering::Relaxed);
        if now != last {
            (last, quiet_since) = (now, Instant::now());
        }
    }
    let delivered_at = quiet_since - started;
    let cpu_delivered = cpu(&pids) - cpu0;
    let _ = counted;

    // 2. presence-request on the full channel.
    let mut latencies = Vec::with_capacity(requests);
    let mut size = 0;
    for _ in 0..requests {
        let asked = Instant::now();
        let (_, bytes) = observer.until_count(channel, still_open).await?;
        latencies.push(asked.elapsed());
        size = bytes;
    }
    latencies.sort();

    // 3. Everyone leaves at once.
    let (cpu_before_leave, leaving) = (cpu(&pids), Instant::now());
    for reader in &readers {
        reader.abort(); // drops the socket: the server sees the connection end
    }
    observer.until_count(channel, || 1).await?;
    let left = leaving.elapsed();
    let cpu_left = cpu(&pids) - cpu_before_leave;

    let per = |d: Duration| d.as_secs_f64() * 1e6 / members as f64;
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let backplane = if redis.is_some() { "redis" } else { "memory" };
    println!("| presence, {members} users, {mode}, {backplane} | value |\n|---|---|");
    println!(
        "| join: all subscribed (answered) | {:.2} s |",
        answered.as_secs_f64()
    );
    println!(
        "| connections closed by the server (slow consumers) | {} |",
        closed.load(Ordering::Relaxed)
    );
    println!(
        "| join: counted by presence-request | {:.2} s ({:.0} µs per join), server CPU {:.2} s ({:.0} µs per join) |",
        counted_at.as_secs_f64(),
        per(counted_at),
        cpu_counted,
        cpu_counted * 1e6 / members as f64
    );
    println!(
        "| join: fan-out delivered ({last} presence packets) | {:.2} s, server CPU {:.2} s ({:.0} µs per join) |",
        delivered_at.as_secs_f64(),
        cpu_delivered,
        cpu_delivered * 1e6 / members as f64
    );
    println!(
        "| presence-request ({size} bytes) | p50 {:.2} ms, p99 {:.2} ms |",
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    println!(
        "| leave: all disconnected, counted out | {:.2} s ({:.0} µs per leave), server CPU {:.2} s |",
        left.as_secs_f64(),
        per(left),
        cpu_left
    );
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    Ok(())
}

/// The observer's connection: a task reads everything (the joins it is sent must not
/// fill its queue) and hands on the `presence-response` payloads.
struct Observer {
    writer: FrameWriter<OwnedWriteHalf>,
    responses: mpsc::UnboundedReceiver<Vec<u8>>,
}

impl Observer {
    fn start(client: Client) -> Self {
        let Client { mut reader, writer } = client;
        let (tx, responses) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((_, payload)) = reader.next_owned().await {
                let response = payload.starts_with(br#"{"event":"presence-response""#);
                if response && tx.send(payload).is_err() {
                    return;
                }
            }
        });
        Self { writer, responses }
    }

    /// Asks `presence-request` until `count` users are on `channel`; returns the last
    /// answer's count and its size in bytes.
    async fn until_count(
        &mut self,
        channel: &str,
        count: impl Fn() -> usize,
    ) -> Result<(usize, usize), String> {
        let request =
            format!(r#"{{"event":"presence-request","channel":"{channel}","data":{{}}}}"#);
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            self.writer
                .send(Opcode::Text, request.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            let payload = self
                .responses
                .recv()
                .await
                .ok_or("the observer was closed")?;
            let packet: serde_json::Value =
                serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
            let seen = packet["data"]["count"].as_u64().unwrap_or(0) as usize;
            if seen == count() {
                return Ok((seen, payload.len()));
            }
            if Instant::now() > deadline {
                return Err(format!("still {seen} users, waiting for {}", count()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Starts `bench-server` beside this binary; its pid and WebSocket URL.
fn start_server(redis: Option<&str>) -> Result<(Child, u32, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let binary = exe.with_file_name("bench-server");
    let mut command = Command::new(&binary);
    command.args(["--bind", "127.0.0.1:0"]);
    if let Some(url) = redis {
        command.args(["--redis", url]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    let mut stdout = BufReader::new(stdout);
    while !line.starts_with("pid=") {
        line.clear();
        if stdout.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("bench-server exited before listening".into());
        }
    }
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(name))
            .map(str::to_owned)
            .ok_or_else(|| format!("bench-server said {line:?}"))
    };
    let pid = field("pid=")?.parse().map_err(|_| "bad pid")?;
    Ok((child, pid, field("url=")?))
}
