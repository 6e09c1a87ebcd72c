//! Runnable examples of Switchboard, one file each beside this one:
//!
//! - `cargo run --example minimal`: a chat in under 40 lines;
//! - `cargo run --example embed`: Switchboard inside an existing actix-web app, with the
//!   app's own routes and state;
//! - `cargo run --example cluster`: two nodes on one Redis (`REDIS_URL`).
//!
//! Each listens on `EXAMPLE_BIND` (default `127.0.0.1:8080`); `tests/tests/examples.rs`
//! runs every one of them.
