//! `conformance-echo [--bind 127.0.0.1:9001]`
//!
//! Switchboard's own transport (frames, fragments, UTF-8 checks, limits, close handling)
//! with sessions that echo every text and binary message and speak no protocol: the
//! endpoint the Autobahn cases (run by `kosoku`, see `scripts/conformance.sh`) drive.
//! No authentication; limits opened up to the suite's largest messages (16 MiB).
//! Prints `url=ws://ADDR/` once listening.

use std::io::Write;
use std::process::ExitCode;

use switchboard::Switchboard;
use switchboard::config::Settings;
use switchboard_bench::args::Args;

#[actix_web::main]
async fn main() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-echo: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), String> {
    let args = Args::from_env()?;
    let bind: String = args.get_or("bind", "127.0.0.1:9001".to_owned())?;
    let mut settings = Settings::default();
    settings.path = "/".to_owned();
    settings.middleware.clear();
    settings.auth.allow_anonymous = true;
    settings.server.workers = 1;
    // The suite sends messages of up to 16 MiB, in bursts, and echoes them all.
    settings.limits.max_message_bytes = 16 * 1024 * 1024;
    settings.limits.outbound_queue = 100_000;
    settings.limits.outbound_queue_bytes = 256 * 1024 * 1024;
    settings.limits.messages_per_second = u32::MAX;
    settings.limits.burst = u32::MAX;
    settings.heartbeat.interval_secs = 300;
    settings.heartbeat.timeout_secs = 600;
    let running = Switchboard::builder(settings)
        .conformance_echo()
        .build()
        .map_err(|e| e.to_string())?
        .start(&bind)
        .map_err(|e| format!("binding {bind}: {e}"))?;
    println!("url={}", running.ws_url());
    let _ = std::io::stdout().flush();
    running.wait().await.map_err(|e| e.to_string())
}
