//! `GET PREFIX/switchboard.js`: the browser client, served beside the WebSocket
//! endpoint so a page can `import { SocketClient } from '/switchboard/switchboard.js'`
//! with no build step.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// The client's file name under the routes prefix.
const FILE: &str = "switchboard.js";

/// The client itself: a plain ES module, kept in `framework/static/`.
const SOURCE: &str = include_str!("../../static/switchboard.js");

pub(super) fn mount(cfg: &mut web::ServiceConfig, prefix: &str) {
    cfg.route(&format!("{prefix}/{FILE}"), web::get().to(serve));
}

async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        // Revalidate on every load: the file changes with the server, not with a URL.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(SOURCE)
}
