//! `churn [--clients 5000] [--ops 500] [--secs 60] [--rounds 1] [--warm-up-secs 60]
//! [--settle-secs 12] [--channels 200] [--seed N]`
//!
//! The churn soak (see `switchboard_bench::churn`): starts `bench-server` (built beside
//! this binary) with its HTTP API on, drives it, prints the report as Markdown and as
//! one JSON line, and exits non-zero unless the server ended idle with its RSS within
//! 10% of the baseline. Not part of CI: `bash bench/churn.sh` runs it in release.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};

use switchboard_bench::args::Args;
use switchboard_bench::churn::{self, Config, Report, Server};

/// The HTTP API key the soak gives its own server (loopback only).
const API_KEY: &str = "churn-soak-api-key-loopback-only-0123456789";

#[tokio::main]
async fn main() -> ExitCode {
    match soak().await {
        Ok(report) => {
            print(&report);
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                eprintln!("churn: FAILED (stats not idle, or RSS grew past 10%)");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("churn: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn soak() -> Result<Report, String> {
    let args = Args::from_env()?;
    let defaults = Config::default();
    let config = Config {
        clients: args.get_or("clients", defaults.clients)?,
        ops_per_sec: args.get_or("ops", defaults.ops_per_sec)?,
        secs: args.get_or("secs", defaults.secs)?,
        rounds: args.get_or("rounds", defaults.rounds)?,
        warm_up_secs: args.get_or("warm-up-secs", defaults.warm_up_secs)?,
        settle_secs: args.get_or("settle-secs", defaults.settle_secs)?,
        channels: args.get_or("channels", defaults.channels)?,
        seed: args.get_or("seed", defaults.seed)?,
        ..defaults
    };
    let secret = switchboard_bench::secret_from_env();
    let (mut child, server) = start_server()?;
    let pid = server.pid;
    let report = churn::run(config, server, &secret).await;
    stop(&mut child, pid);
    report
}

/// SIGTERM, so the server (and a profiler around it) ends cleanly; SIGKILL after 10 s.
fn stop(child: &mut Child, pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
    for _ in 0..100 {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts `bench-server` and reads its `pid=… addr=… url=…` line.
fn start_server() -> Result<(Child, Server), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let binary = exe.with_file_name("bench-server");
    // CHURN_SERVER_WRAPPER runs it under a profiler, e.g. `heaptrack`.
    let mut command = match std::env::var("CHURN_SERVER_WRAPPER") {
        Ok(wrapper) if !wrapper.is_empty() => {
            let mut command = Command::new(wrapper);
            command.arg(&binary);
            command
        }
        _ => Command::new(&binary),
    };
    // CHURN_SERVER_PRELOAD puts another allocator under the server alone (see churn.sh).
    if let Ok(preload) = std::env::var("CHURN_SERVER_PRELOAD") {
        command.env("LD_PRELOAD", preload);
    }
    let mut child = command
        .args(["--bind", "127.0.0.1:0", "--api-key", API_KEY])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
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
    let server = Server {
        pid: field("pid=")?.parse().map_err(|_| "bad pid")?,
        addr: field("addr=")?,
        ws_url: field("url=")?,
        api_key: API_KEY.to_owned(),
    };
    Ok((child, server))
}

fn print(report: &Report) {
    let ops = &report.operations;
    println!("| churn soak | value |\n|---|---|");
    println!(
        "| clients, soak round length (last round's figures below) | {} clients, {} s |",
        report.clients, report.secs
    );
    println!(
        "| operations per second (target / done) | {} / {:.0} |",
        report.ops_per_sec_target, report.ops_per_sec_done
    );
    println!(
        "| connects, subscribes, unsubscribes, closes, resets (no close frame) | {}, {}, {}, {}, {} |",
        ops.connects, ops.subscribes, ops.unsubscribes, ops.closes, ops.kills
    );
    println!(
        "| broadcasts sent, deliveries received | {}, {} |",
        report.publishes, report.deliveries_received
    );
    println!(
        "| connects ok / failed, closed by the server | {} / {}, {} |",
        report.connects_ok, report.connects_failed, report.closed_by_server
    );
    let s = &report.stats_after;
    println!(
        "| server stats after (connections, users, channels, subscriptions, channel actors) | {}, {}, {}, {}, {} (idle after {} ms) |",
        s.connections, s.users, s.channels, s.subscriptions, s.channel_actors, report.drained_in_ms
    );
    println!(
        "| server RSS: start, baseline (after warm-up), peak, end | {}, {}, {}, {} KiB |",
        report.rss_start_kib, report.rss_baseline_kib, report.rss_peak_kib, report.rss_end_kib
    );
    println!(
        "| server RSS after each soak round | {:?} KiB |",
        report.rss_after_rounds_kib
    );
    println!("| RSS end vs baseline | {:+.1}% |", report.rss_growth_pct);
    println!(
        "{}",
        serde_json::to_string(report).unwrap_or_else(|e| e.to_string())
    );
}
