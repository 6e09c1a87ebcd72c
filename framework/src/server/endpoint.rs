//! The HTTP route that checks and authenticates a request and upgrades it to a
//! WebSocket session.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::{Authenticated, Rejection};
use crate::delivery::CapReached;
use crate::node::Node;
use crate::session::{self, Source};
use crate::stream::Since;

pub(super) fn mount(cfg: &mut web::ServiceConfig, node: Arc<Node>) {
    if !node.settings.enabled {
        return;
    }
    let prefix = &node.settings.routes_prefix;
    super::client_js::mount(cfg, prefix);
    #[cfg(feature = "http-api")]
    super::http_api::mount(cfg, &node);
    if node.settings.server.internal_bind.is_empty() {
        super::health::mount(cfg, &node);
    }
    let path = node.settings.path.clone();
    cfg.app_data(web::Data::from(node))
        .route(&path, web::get().to(upgrade));
}

/// Everything that can refuse a handshake runs before the upgrade, so a refused
/// request is answered with its status and JSON reason and opens no socket.
async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    node: web::Data<Node>,
) -> actix_web::Result<HttpResponse> {
    match upgrade_checked(&req, body, &node).await {
        Ok(response) => Ok(response),
        Err(rejection) => {
            node.metrics()
                .handshake_refused(rejection.status().as_u16(), rejection.code());
            Ok(refuse(rejection))
        }
    }
}

async fn upgrade_checked(
    req: &HttpRequest,
    body: web::Payload,
    node: &web::Data<Node>,
) -> Result<HttpResponse, Rejection> {
    let Accepted {
        mut response,
        authenticated,
        since,
    } = accept(req, node).await?;
    // The session's writer is the response body: frames go from its queue to the
    // dispatcher, which writes them. The caps are checked as the connection is
    // counted, under one lock.
    let node = node.clone().into_inner();
    let source = Source::Payload(body.into_inner());
    let writer = session::start(node, source, authenticated, since).map_err(cap_reached)?;
    response
        .message_body(writer.boxed())
        .map(HttpResponse::from)
        .map_err(|e| Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))
}

/// A handshake that passed every check: the `101` response to send, and who connects.
pub(super) struct Accepted {
    pub(super) response: actix_http::ResponseBuilder,
    pub(super) authenticated: Authenticated,
    /// Where the client's user stream stood when it last saw it (`since_offset` and
    /// `since_epoch`): what followed is sent before anything live.
    pub(super) since: Option<Since>,
}

/// Everything that can refuse a handshake but the connection caps (checked as the
/// session starts): draining, the origin, the middleware chain, the WebSocket headers.
pub(super) async fn accept(req: &HttpRequest, node: &Node) -> Result<Accepted, Rejection> {
    admit(req, node)?;
    let since = user_stream_since(req)?;
    let timeout = Duration::from_secs(node.settings.limits.handshake_timeout_secs);
    let authenticated = tokio::time::timeout(timeout, node.auth.handshake(req))
        .await
        .map_err(|_| {
            Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "handshake_timeout",
                "authentication did not finish in time",
            )
        })??;
    let mut response = actix_http::ws::handshake(req.head())
        .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, "bad_handshake", e.to_string()))?;
    if let Some(protocol) = &authenticated.subprotocol {
        // The token came as the only subprotocol: browsers abort unless it is echoed.
        response.insert_header((header::SEC_WEBSOCKET_PROTOCOL, protocol.as_str()));
    }
    Ok(Accepted {
        response,
        authenticated,
        since,
    })
}

/// The handshake's `since_offset` and `since_epoch` (`docs/protocol.md`, "User
/// streams"); a malformed pair is refused with 400 and the parameter named.
fn user_stream_since(req: &HttpRequest) -> Result<Option<Since>, Rejection> {
    let bad = |message: &str| Rejection::new(StatusCode::BAD_REQUEST, "bad_since", message);
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map_err(|e| bad(&format!("the query string does not parse: {e}")))?;
    let param = |name: &str| query.get(name).map(String::as_str);
    Since::from_handshake(param("since_offset"), param("since_epoch")).map_err(bad)
}

pub(super) fn cap_reached(reached: CapReached) -> Rejection {
    match reached {
        CapReached::Node(max) => Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            format!("this node holds its maximum of {max} connections"),
        ),
        CapReached::User(max) => Rejection::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_user_connections",
            format!("a user may hold at most {max} connections to this node"),
        ),
    }
}

/// Checks that cost nothing: draining, the browser origin.
fn admit(req: &HttpRequest, node: &Node) -> Result<(), Rejection> {
    if node.is_draining() {
        return Err(Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "this node is shutting down; reconnect to another",
        ));
    }
    let allowed = &node.settings.auth.allowed_origins;
    if allowed.is_empty() {
        return Ok(());
    }
    // Browsers always send Origin on a WebSocket upgrade; other clients need not.
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        Ok(())
    } else {
        Err(Rejection::forbidden(
            "forbidden_origin",
            format!("origin {origin:?} may not connect"),
        ))
    }
}

pub(super) fn refuse(rejection: Rejection) -> HttpResponse {
    tracing::debug!(code = rejection.code(), "handshake refused");
    rejection.into_response()
}
