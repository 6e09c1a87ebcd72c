//! The load generator.
//!
//! ```text
//! loadgen run --scenario S1 --target framework --url ws://127.0.0.1:PORT/ws [--pid PID]
//!             [--url-b ws://127.0.0.1:PORT2/ws --pid-b PID2 --redis-pid PID3]
//!             [--run 1] [--out results.jsonl] [--subscribers N] [--publishers P]
//!             [--rate MSGS_PER_SEC | --window W] [--duration SECS]
//!             [--connect-concurrency C] [--connect-rate PER_SEC] [--smoke true]
//! loadgen summarize results.jsonl
//! ```
//!
//! `--url-b` puts every other subscriber on a second node (S5 needs it; the publishers
//! stay on `--url`); `--pid-b` adds that node's CPU and memory to the first's, and
//! `--redis-pid` reports the backplane's CPU beside them.
//!
//! `run` prints a summary on stderr and one JSON line on stdout (and appends it to
//! `--out`). `summarize` prints the Markdown table of medians, ratios and targets.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use switchboard_bench::Target;
use switchboard_bench::args::Args;
use switchboard_bench::loadgen::{self, Config, Pace};
use switchboard_bench::report::{self, Report};

/// A run that has not finished by then is abandoned (every phase has its own deadline;
/// this is the last resort).
const HARD_DEADLINE: Duration = Duration::from_secs(900);
/// The load generator's worker threads: one per core of the benchmark machine.
const LOADGEN_THREADS: usize = 2;

fn main() -> ExitCode {
    let outcome = Args::from_env().and_then(|args| match args.positional.first().map(String::as_str) {
        Some("run") => run(&args),
        Some("summarize") => summarize(&args),
        _ => Err("usage: loadgen run --scenario S1..S5 --target framework|raw --url URL [--pid PID] | loadgen summarize FILE".to_owned()),
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn config(args: &Args) -> Result<Config, String> {
    let scenario: String = args.get_or("scenario", "S1".to_owned())?;
    let target: Target = args.get_or("target", Target::Framework)?;
    let url: String = args
        .get("url")?
        .ok_or("--url is required (ws://127.0.0.1:PORT/ws or ws://127.0.0.1:PORT/)")?;
    let mut config = if args.get_or("smoke", false)? {
        Config::smoke(&scenario, target, &url)?
    } else {
        Config::preset(&scenario, target, &url)?
    };
    config.server_pid = args.get("pid")?;
    config.url_b = args.get("url-b")?;
    config.server_pid_b = args.get("pid-b")?;
    config.redis_pid = args.get("redis-pid")?;
    if config.scenario == "S5" && config.url_b.is_none() {
        return Err("S5 needs a second node: --url-b ws://127.0.0.1:PORT/ws".to_owned());
    }
    config.run = args.get_or("run", 1)?;
    config.subscribers = args.get_or("subscribers", config.subscribers)?;
    config.publishers = args.get_or("publishers", config.publishers)?;
    if let Some(rate) = args.get("rate")? {
        config.pace = Pace::Rate(rate);
    }
    if let Some(window) = args.get("window")? {
        config.pace = Pace::Window(window);
    }
    if let Some(secs) = args.get::<f64>("duration")? {
        config.duration = Duration::from_secs_f64(secs);
    }
    config.connect_concurrency = args.get_or("connect-concurrency", config.connect_concurrency)?;
    config.connect_rate = args.get_or("connect-rate", config.connect_rate)?;
    Ok(config)
}

fn run(args: &Args) -> Result<(), String> {
    let config = config(args)?;
    let out: Option<String> = args.get("out")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(LOADGEN_THREADS)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let report = runtime.block_on(async {
        tokio::time::timeout(HARD_DEADLINE, loadgen::run(&config))
            .await
            .map_err(|_| format!("run did not finish within {HARD_DEADLINE:?}"))?
    })?;
    // Connections are many; do not wait for their tasks to wind down.
    runtime.shutdown_background();
    eprint!("{}", report.summary());
    let line = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    println!("{line}");
    if let Some(path) = out {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{path}: {e}"))?;
        writeln!(file, "{line}").map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

fn summarize(args: &Args) -> Result<(), String> {
    let path = args
        .positional
        .get(1)
        .ok_or("usage: loadgen summarize results.jsonl")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let reports = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str::<Report>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{path}: {e}"))?;
    print!("{}", report::summarize(&reports));
    Ok(())
}
