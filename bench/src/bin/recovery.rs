//! `recovery --url ws://ADDR/ws [--subscribers 1000] [--missed 1000] [--channel bench.recovery]`
//!
//! Streams' mass recovery: `SUBSCRIBERS` clients join a stream and note its position,
//! go away, `MISSED` publications are made, then all of them come back at once with
//! `since` and must each receive exactly those publications. Prints how long the whole
//! recovery took (first reconnect to last missed publication received) and the
//! per-client times. Drive a `bench-server --history SIZE` (SIZE at least MISSED), on
//! the memory backplane or with `--redis URL`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_bench::args::Args;
use switchboard_bench::loadgen::client::{ConnectError, connect};
use switchboard_bench::token::Minter;
use switchboard_bench::wire::Opcode;
use switchboard_bench::wire::client::{Client, Url};
use switchboard_bench::{Target, secret_from_env};
use tokio::sync::Semaphore;

/// Connections opened at once (the listen backlog and the handshakes' CPU).
const CONNECTING_AT_ONCE: usize = 200;
/// Longest wait for one packet.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("recovery: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = Args::from_env()?;
    let url: Url = args
        .get::<String>("url")?
        .ok_or("--url ws://ADDR/ws is required")?
        .parse()?;
    let subscribers: usize = args.get_or("subscribers", 1000)?;
    let missed: usize = args.get_or("missed", 1000)?;
    let channel: String = args.get_or("channel", "bench.recovery".to_owned())?;
    let minter = Arc::new(Minter::new(&secret_from_env()));

    // The publisher, subscribed too: it sees each publication come back.
    let mut publisher = join(&url, &minter, "publisher", &channel, None).await?;
    let (offset, epoch) = position(&publisher.1)?;
    // Everyone joins once, notes the position, and leaves.
    let gate = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let mut joins = Vec::new();
    for i in 0..subscribers {
        let (url, minter, channel, gate) =
            (url.clone(), minter.clone(), channel.clone(), gate.clone());
        joins.push(tokio::spawn(async move {
            let _slot = gate.acquire().await;
            join(&url, &minter, &format!("r{i}"), &channel, None)
                .await
                .map(|_| ())
        }));
    }
    for joined in joins {
        joined.await.map_err(|e| e.to_string())??;
    }
    for n in 0..missed {
        let publish = format!(r#"{{"event":"publish","channel":"{channel}","data":{{"n":{n}}}}}"#);
        send(&mut publisher.0, &publish).await?;
    }
    let mut back = 0;
    while back < missed {
        if next_text(&mut publisher.0)
            .await?
            .starts_with(r#"{"event":"message""#)
        {
            back += 1;
        }
    }

    // Everyone comes back at once.
    let start = Instant::now();
    let mut recoveries = Vec::new();
    for i in 0..subscribers {
        let (url, minter, channel, gate, epoch) = (
            url.clone(),
            minter.clone(),
            channel.clone(),
            gate.clone(),
            epoch.clone(),
        );
        recoveries.push(tokio::spawn(async move {
            let (mut ws, answer) = {
                let _slot = gate.acquire().await;
                join(
                    &url,
                    &minter,
                    &format!("r{i}"),
                    &channel,
                    Some((offset, &epoch)),
                )
                .await?
            };
            if answer.get("recovered") != Some(&Value::Bool(true)) {
                return Err(format!("not recovered: {answer}"));
            }
            let mut received = 0;
            while received < missed {
                if next_text(&mut ws)
                    .await?
                    .starts_with(r#"{"event":"message""#)
                {
                    received += 1;
                }
            }
            Ok::<Duration, String>(start.elapsed())
        }));
    }
    let mut times = Vec::with_capacity(subscribers);
    for recovery in recoveries {
        times.push(recovery.await.map_err(|e| e.to_string())??);
    }
    let total = start.elapsed();
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64();
    println!(
        "{subscribers} subscribers recovered {missed} missed publications each ({} deliveries) in {:.2} s; per client p50 {:.2} s, p99 {:.2} s, last {:.2} s",
        subscribers * missed,
        total.as_secs_f64(),
        at(0.5),
        at(0.99),
        at(1.0),
    );
    Ok(())
}

/// Connects as `user` and subscribes to `channel` (with `since` when given); returns
/// the connection and the answer's data.
async fn join(
    url: &Url,
    minter: &Minter,
    user: &str,
    channel: &str,
    since: Option<(u64, &str)>,
) -> Result<(Client, Value), String> {
    let token = minter.token(user).map_err(|e| e.to_string())?;
    let mut ws = connect(Target::Framework, url, Some(&token))
        .await
        .map_err(|e: ConnectError| e.to_string())?;
    let since = since.map_or(String::new(), |(offset, epoch)| {
        format!(r#","since":{{"offset":{offset},"epoch":"{epoch}"}}"#)
    });
    let request = format!(
        r#"{{"event":"subscribe-channel-request","data":{{"channel":"{channel}"{since}}}}}"#
    );
    send(&mut ws, &request).await?;
    loop {
        let text = next_text(&mut ws).await?;
        if text.starts_with(r#"{"event":"subscribe-channel-response""#) {
            let answer: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            return Ok((ws, answer["data"].clone()));
        }
    }
}

/// The stream position in a subscribe answer.
fn position(answer: &Value) -> Result<(u64, String), String> {
    let offset = answer["offset"].as_u64();
    let epoch = answer["epoch"].as_str();
    match (offset, epoch) {
        (Some(offset), Some(epoch)) => Ok((offset, epoch.to_owned())),
        _ => Err(format!(
            "not a stream (start bench-server with --history): {answer}"
        )),
    }
}

async fn send(ws: &mut Client, text: &str) -> Result<(), String> {
    ws.writer
        .send(Opcode::Text, text.as_bytes())
        .await
        .map_err(|e| e.to_string())
}

/// The next text frame, answering heartbeats.
async fn next_text(ws: &mut Client) -> Result<String, String> {
    loop {
        let (opcode, payload) = tokio::time::timeout(PATIENCE, ws.reader.next_owned())
            .await
            .map_err(|_| "no packet within 30 s".to_owned())?
            .map_err(|e| e.to_string())?;
        match opcode {
            Opcode::Text if payload == switchboard_bench::payload::PING.as_bytes() => {
                send(ws, switchboard_bench::payload::PONG).await?;
            }
            Opcode::Text => return Ok(String::from_utf8_lossy(&payload).into_owned()),
            Opcode::Close => return Err("closed by the server".to_owned()),
            _ => {}
        }
    }
}
