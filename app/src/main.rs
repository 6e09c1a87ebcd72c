//! The Switchboard demo: `cargo run -p switchboard-app`.
//!
//! Reads `config/Websockets.toml` (or the file named by `SWITCHBOARD_CONFIG`) and
//! serves the WebSocket endpoint on `server.bind`.

use std::path::PathBuf;
use std::process::ExitCode;

use switchboard::{Switchboard, config::Settings};
// Linking the library registers its listeners.
use switchboard_app as _;
use tracing_subscriber::EnvFilter;

/// The shipped config, found whatever directory the demo is started from.
const SHIPPED_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/Websockets.toml");

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let path = std::env::var_os("SWITCHBOARD_CONFIG")
        .map_or_else(|| PathBuf::from(SHIPPED_CONFIG), PathBuf::from);
    let settings = match Settings::load(&path) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let switchboard = match Switchboard::new(settings) {
        Ok(switchboard) => switchboard,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match switchboard.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
