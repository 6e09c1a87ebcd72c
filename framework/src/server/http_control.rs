//! The HTTP API's server-side control routes (see `http_api` for the table):
//! subscribe, unsubscribe and disconnect a user's connections or one connection, on
//! whichever node holds them. 202 once a node applied it; 404 when none had them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::http_api::{Refusal, authorise, parse};
use crate::node::Node;
use crate::send::{ControlError, Disconnect, Sockets};

pub(super) fn mount(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/{kind:users|connections}/{id}/subscribe",
        web::post().to(subscribe),
    )
    .route(
        "/{kind:users|connections}/{id}/unsubscribe",
        web::post().to(unsubscribe),
    )
    .route(
        "/{kind:users|connections}/{id}/disconnect",
        web::post().to(disconnect),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscribe {
    channel: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Unsubscribe {
    channel: String,
    #[serde(default = "removed")]
    reason: String,
}

fn removed() -> String {
    "removed".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Close {
    #[serde(default = "normal")]
    code: u16,
    #[serde(default = "disconnected")]
    reason: String,
    #[serde(default)]
    reconnect: bool,
}

fn normal() -> u16 {
    1000
}

fn disconnected() -> String {
    "disconnected by the server".to_owned()
}

/// `users/ID` or `connections/ID`, from the path.
fn sockets(path: &(String, String)) -> Sockets<'_> {
    match path.0.as_str() {
        "users" => Sockets::User(&path.1),
        _ => Sockets::Connection(&path.1),
    }
}

async fn subscribe(
    req: HttpRequest,
    node: web::Data<Node>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(refusal) = authorise(&req, &node) {
        return refusal.response();
    }
    let call: Subscribe = match parse(&body) {
        Ok(call) => call,
        Err(refusal) => return refusal.response(),
    };
    let result = node.server().subscribe(sockets(&path), &call.channel).await;
    answer(result)
}

async fn unsubscribe(
    req: HttpRequest,
    node: web::Data<Node>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(refusal) = authorise(&req, &node) {
        return refusal.response();
    }
    let call: Unsubscribe = match parse(&body) {
        Ok(call) => call,
        Err(refusal) => return refusal.response(),
    };
    let server = node.server();
    answer(
        server
            .unsubscribe(sockets(&path), &call.channel, &call.reason)
            .await,
    )
}

async fn disconnect(
    req: HttpRequest,
    node: web::Data<Node>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    if let Err(refusal) = authorise(&req, &node) {
        return refusal.response();
    }
    // An empty body takes every default.
    let body = if body.is_empty() { "{}".into() } else { body };
    let call: Close = match parse(&body) {
        Ok(call) => call,
        Err(refusal) => return refusal.response(),
    };
    let disconnect = Disconnect::new(call.code, call.reason).reconnect(call.reconnect);
    answer(node.server().disconnect(sockets(&path), &disconnect).await)
}

fn answer(result: Result<(), ControlError>) -> HttpResponse {
    let refusal = |status, code, field: Option<&str>, message: String| Refusal {
        status,
        code,
        field: field.map(str::to_owned),
        message,
    };
    let refused = match result {
        Ok(()) => return HttpResponse::Accepted().json(json!({ "applied": true })),
        Err(e @ ControlError::UnknownChannel { .. }) => Refusal::bad("channel", e.to_string()),
        Err(e @ ControlError::BadCloseCode(_)) => Refusal::bad("code", e.to_string()),
        Err(e @ ControlError::BadReason(_)) => Refusal::bad("reason", e.to_string()),
        Err(e @ ControlError::UnknownUser(_)) => {
            refusal(StatusCode::NOT_FOUND, "unknown_user", None, e.to_string())
        }
        Err(e @ ControlError::UnknownConnection(_)) => refusal(
            StatusCode::NOT_FOUND,
            "unknown_connection",
            None,
            e.to_string(),
        ),
        Err(e @ ControlError::NoAnswer(_)) => refusal(
            StatusCode::GATEWAY_TIMEOUT,
            "no_answer",
            None,
            e.to_string(),
        ),
    };
    refused.response()
}
