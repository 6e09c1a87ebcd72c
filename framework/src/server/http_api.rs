//! The server-side HTTP API: other backends send through Switchboard with a key.
//!
//! Routes are under `PREFIX = ROUTES_PREFIX/api` (`/switchboard/api` by default).
//!
//! | route | body | does |
//! |---|---|---|
//! | `POST PREFIX/broadcast` | `{channel, event, data?, except?}` | broadcast on a channel, on every node |
//! | `POST PREFIX/users/{id}/events` | `{event, data?}` | send to every connection of a user |
//! | `POST PREFIX/connections/{id}/events` | `{event, data?}` | send to one connection, on whichever node holds it: 404 when none does |
//! | `POST PREFIX/users/{id}/reauthorise` | | authorise the user's subscriptions again, on every node |
//! | `POST PREFIX/{users,connections}/{id}/subscribe` | `{channel}` | subscribe the user's connections (or one) to a channel, on every node: 404 when none is open |
//! | `POST PREFIX/{users,connections}/{id}/unsubscribe` | `{channel, reason?}` | take them out of a channel |
//! | `POST PREFIX/{users,connections}/{id}/disconnect` | `{code?, reason?, reconnect?}` | close them (`disconnect` packet, then the close frame) |
//! | `GET PREFIX/stats` | | this node's connections, users, channels, subscriptions, channel actors, streams and their history's bytes, subscribers per channel |
//!
//! Callers authenticate with `Authorization: Bearer KEY` or `X-Api-Key: KEY`, compared in
//! constant time. A bad body gets 400 naming the field; a wrong or missing key, 401.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::node::Node;
use crate::protocol::events;
use crate::send::{SendError, SocketServer};

/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(super) fn mount(cfg: &mut web::ServiceConfig, node: &Arc<Node>) {
    let api = &node.settings.http_api;
    if !api.enabled {
        return;
    }
    cfg.service(
        web::scope(&format!("{}/api", node.settings.routes_prefix))
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .route("/broadcast", web::post().to(broadcast))
            .route("/users/{id}/events", web::post().to(to_user))
            .route("/users/{id}/reauthorise", web::post().to(reauthorise))
            .route("/connections/{id}/events", web::post().to(to_connection))
            .configure(super::http_control::mount)
            .route("/stats", web::get().to(stats)),
    );
}

/// A refused API call.
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) field: Option<String>,
    pub(super) message: String,
}

impl Refusal {
    pub(super) fn bad(field: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    pub(super) fn response(self) -> HttpResponse {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        HttpResponse::build(self.status).json(json!({ "error": error }))
    }
}

pub(super) fn authorise(req: &HttpRequest, node: &Node) -> Result<(), Refusal> {
    let headers = req.headers();
    let given = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
        .unwrap_or_default();
    let expected = node.settings.http_api.key.expose().as_bytes();
    if bool::from(given.as_bytes().ct_eq(expected)) {
        Ok(())
    } else {
        Err(Refusal {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorised",
            field: None,
            message: "missing or wrong API key (Authorization: Bearer KEY or X-Api-Key)".into(),
        })
    }
}

/// Parses a JSON body, naming the field that is wrong.
pub(super) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        // serde names a missing or unknown field in the message, at the parent's path.
        let field = if path == "." {
            message.split('`').nth(1).unwrap_or("body").to_owned()
        } else {
            path
        };
        Refusal::bad(&field, message)
    })
}

fn check_event(event: &str) -> Result<(), Refusal> {
    if event.is_empty() {
        return Err(Refusal::bad("event", "must not be empty"));
    }
    if events::RESERVED.contains(&event) {
        return Err(Refusal::bad(
            "event",
            format!("`{event}` is reserved by the protocol"),
        ));
    }
    Ok(())
}

fn sent(result: Result<usize, SendError>) -> HttpResponse {
    match result {
        Ok(delivered) => HttpResponse::Accepted().json(json!({ "delivered_here": delivered })),
        Err(e) => Refusal {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "not_sent",
            field: None,
            message: e.to_string(),
        }
        .response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Broadcast {
    channel: String,
    event: String,
    #[serde(default = "empty_object")]
    data: Value,
    #[serde(default)]
    except: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    event: String,
    #[serde(default = "empty_object")]
    data: Value,
}

fn empty_object() -> Value {
    json!({})
}

async fn broadcast(req: HttpRequest, node: web::Data<Node>, body: web::Bytes) -> HttpResponse {
    let run = || -> Result<HttpResponse, Refusal> {
        authorise(&req, &node)?;
        let call: Broadcast = parse(&body)?;
        switchboard_pattern::validate_channel_name(&call.channel)
            .map_err(|e| Refusal::bad("channel", e.to_string()))?;
        check_event(&call.event)?;
        let server = node.server();
        Ok(sent(match &call.except {
            Some(except) => server.broadcast_except(&call.channel, except, &call.event, &call.data),
            None => server.broadcast(&call.channel, &call.event, &call.data),
        }))
    };
    run().unwrap_or_else(Refusal::response)
}

/// What the two event routes share: the key, the body, the event name.
fn event_call(
    req: &HttpRequest,
    node: &web::Data<Node>,
    body: &[u8],
) -> Result<(SocketServer, Event), Refusal> {
    authorise(req, node)?;
    let call: Event = parse(body)?;
    check_event(&call.event)?;
    Ok((node.server(), call))
}

async fn to_user(
    req: HttpRequest,
    node: web::Data<Node>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    match event_call(&req, &node, &body) {
        Ok((server, call)) => sent(server.send_to_user(&id, &call.event, &call.data)),
        Err(refusal) => refusal.response(),
    }
}

/// Answered once the node holding the connection took the event (or said it has no
/// such connection): 202, 404 for a connection no node has, 504 when its node is silent.
async fn to_connection(
    req: HttpRequest,
    node: web::Data<Node>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (server, call) = match event_call(&req, &node, &body) {
        Ok(call) => call,
        Err(refusal) => return refusal.response(),
    };
    let unsent = |status, code, message| {
        Refusal {
            status,
            code,
            field: None,
            message,
        }
        .response()
    };
    match server
        .confirm_send_to_connection(&id, &call.event, &call.data)
        .await
    {
        Ok(()) => HttpResponse::Accepted().json(json!({ "sent": true })),
        Err(SendError::UnknownConnection(id)) => unsent(
            StatusCode::NOT_FOUND,
            "unknown_connection",
            format!("no open connection `{id}`"),
        ),
        Err(e @ SendError::NoAnswer(_)) => {
            unsent(StatusCode::GATEWAY_TIMEOUT, "no_answer", e.to_string())
        }
        Err(e) => sent(Err(e)),
    }
}

/// 202 with how many of the user's connections this node asked; the other nodes ask
/// theirs.
async fn reauthorise(
    req: HttpRequest,
    node: web::Data<Node>,
    id: web::Path<String>,
) -> HttpResponse {
    if let Err(refusal) = authorise(&req, &node) {
        return refusal.response();
    }
    if id.is_empty() || id.contains(char::is_control) {
        return Refusal::bad("id", "not a user id").response();
    }
    let asked = node.server().reauthorise(&id);
    HttpResponse::Accepted().json(json!({ "connections_here": asked }))
}

async fn stats(req: HttpRequest, node: web::Data<Node>) -> HttpResponse {
    if let Err(refusal) = authorise(&req, &node) {
        return refusal.response();
    }
    let server = node.server();
    let stats = server.stats();
    HttpResponse::Ok().json(json!({
        "node": server.node_id().as_str(),
        "connections": stats.connections,
        "users": stats.users,
        "channels": stats.channels,
        "subscriptions": stats.subscriptions,
        "channel_actors": stats.channel_actors,
        "streams": stats.streams,
        "history_bytes": stats.history_bytes,
        "subscribers": node.server().subscriber_counts(),
        "backplane": server.backplane_stats(),
    }))
}
