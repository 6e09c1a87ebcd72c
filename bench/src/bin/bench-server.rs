//! `bench-server [--bind 127.0.0.1:0] [--workers 2] [--outbound-queue 4096] [--redis URL]
//! [--api-key KEY] [--history SIZE]`
//!
//! Switchboard with JWT (HS256; secret `BENCH_JWT_SECRET` or the bench default) and the
//! bench listeners. Prints `pid=PID addr=ADDR url=ws://ADDR/ws` once listening.
//! `--redis redis://127.0.0.1:PORT` uses the Redis backplane, so several nodes on one
//! Redis deliver each other's broadcasts (S5); without it the backplane is in memory.
//! `--api-key KEY` (32+ bytes) turns the HTTP API on, for the churn soak's stats.
//! `--history SIZE` makes the `bench.{id}` channels streams keeping SIZE publications
//! (offsets, history, recovery), to measure what positions cost.

use std::io::Write;
use std::process::ExitCode;

use switchboard_bench::args::Args;
use switchboard_bench::server;

#[actix_web::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    let args = Args::from_env()?;
    let bind: String = args.get_or("bind", "127.0.0.1:0".to_owned())?;
    let mut settings = server::settings(&switchboard_bench::secret_from_env());
    settings.server.workers = args.get_or("workers", server::WORKERS)?;
    settings.limits.outbound_queue = args.get_or("outbound-queue", server::OUTBOUND_QUEUE)?;
    if let Some(url) = args.get::<String>("redis")? {
        server::use_redis(&mut settings, &url);
    }
    if let Some(size) = args.get::<usize>("history")? {
        settings.history.channels = vec![switchboard::config::HistoryChannel::new(
            server::BENCH_PATTERN,
            size,
            600,
        )];
    }
    if let Some(key) = args.get::<String>("api-key")? {
        settings.http_api.enabled = true;
        settings.http_api.key = switchboard::config::Secret::new(key);
    }
    let running = server::build(settings)
        .map_err(|e| e.to_string())?
        .start(&bind)
        .map_err(|e| format!("binding {bind}: {e}"))?;
    println!(
        "pid={} addr={} url={}",
        std::process::id(),
        running.addr(),
        running.ws_url()
    );
    let _ = std::io::stdout().flush();
    running.wait().await.map_err(|e| e.to_string())
}
