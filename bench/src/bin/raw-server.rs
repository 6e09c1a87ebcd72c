//! `raw-server [--bind 127.0.0.1:0] [--workers 2]`
//!
//! The baseline: tokio-tungstenite only, every text frame broadcast to every
//! connection. Prints `pid=PID addr=ADDR url=ws://ADDR/` once listening.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use switchboard_bench::args::Args;
use switchboard_bench::{raw, server};

fn main() -> ExitCode {
    match serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raw-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> Result<(), String> {
    let args = Args::from_env()?;
    let bind: SocketAddr = args.get_or("bind", SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let workers: usize = args.get_or("workers", server::WORKERS)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener = raw::bind(bind).map_err(|e| format!("binding {bind}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("pid={} addr={addr} url=ws://{addr}/", std::process::id());
        let _ = std::io::stdout().flush();
        raw::serve(listener).await.map_err(|e| e.to_string())
    })
}
