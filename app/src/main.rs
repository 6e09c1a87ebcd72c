//! The Switchboard demo: `cargo run -p switchboard-app`.
//!
//! Reads `config/Websockets.toml` (or the file named by `SWITCHBOARD_CONFIG`) and
//! `config/Demo.toml` (or `SWITCHBOARD_DEMO_CONFIG`), and serves on `server.bind`.
//! `switchboard-app print-triggers` prints the SQL that makes the `[[watch]]` tables
//! signal their channels (`| psql "$DATABASE_URL"` installs it).
//! `switchboard-app typescript PATH` writes the TypeScript declarations of the demo's
//! channels, events and payload types to `PATH` (`-`: standard output), for
//! `new SocketClient<App>(…)` in a typed browser client.

use std::path::PathBuf;
use std::process::ExitCode;

use switchboard::config::Settings;
use switchboard_app::demo_config::DemoConfig;
use tracing_subscriber::EnvFilter;

/// The shipped configuration, found whatever directory the demo is started from.
const CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../config");

fn config_path(var: &str, file: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(CONFIG_DIR).join(file), PathBuf::from)
}

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("typescript") {
        return match args.next() {
            Some(path) => write_typescript(&path),
            None => fail(&"usage: switchboard-app typescript PATH (`-`: standard output)"),
        };
    }
    let settings = match Settings::load(config_path("SWITCHBOARD_CONFIG", "Websockets.toml")) {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    if std::env::args().nth(1).as_deref() == Some("print-triggers") {
        print!("{}", switchboard::postgres::trigger_sql(&settings.watch));
        return ExitCode::SUCCESS;
    }
    let mut demo = match DemoConfig::load(&config_path("SWITCHBOARD_DEMO_CONFIG", "Demo.toml")) {
        Ok(demo) => demo,
        Err(e) => return fail(&e),
    };
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.is_empty()
    {
        demo.database_url = url;
    }
    let addr = settings.server.bind.clone();
    let running = match switchboard_app::start(settings, &demo, &addr) {
        Ok(running) => running,
        Err(e) => return fail(&e),
    };
    println!(
        "Switchboard demo on http://{} (WebSocket {})",
        running.addr(),
        running.ws_url()
    );
    match running.run_until_signal().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The declarations of every listener the demo registers, to `path` (`-`: stdout).
fn write_typescript(path: &str) -> ExitCode {
    let module = match switchboard::typescript::declarations() {
        Ok(module) => module,
        Err(e) => return fail(&e),
    };
    if path == "-" {
        print!("{module}");
        return ExitCode::SUCCESS;
    }
    match std::fs::write(path, module) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format_args!("cannot write {path}: {e}")),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
