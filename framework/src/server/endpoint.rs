//! The HTTP route that checks and authenticates a request and upgrades it to a
//! WebSocket session.

use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::Core;
use crate::auth::Rejection;
use crate::session;

pub(super) fn mount(cfg: &mut web::ServiceConfig, core: Arc<Core>) {
    if !core.settings.enabled {
        return;
    }
    super::client_js::mount(cfg);
    super::http_api::mount(cfg, &core);
    if core.settings.metrics.enabled {
        cfg.route(&core.settings.metrics.path, web::get().to(metrics));
    }
    let path = core.settings.path.clone();
    cfg.app_data(web::Data::from(core))
        .route(&path, web::get().to(upgrade));
}

/// Everything that can refuse a handshake runs before the upgrade, so a refused
/// request is answered with its status and JSON reason and opens no socket.
async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    core: web::Data<Core>,
) -> actix_web::Result<HttpResponse> {
    match upgrade_checked(&req, body, &core).await {
        Ok(response) => Ok(response),
        Err(rejection) => {
            core.metrics.handshake_refused();
            Ok(refuse(rejection))
        }
    }
}

async fn upgrade_checked(
    req: &HttpRequest,
    body: web::Payload,
    core: &web::Data<Core>,
) -> Result<HttpResponse, Rejection> {
    admit(req, core)?;
    let timeout = Duration::from_secs(core.settings.limits.handshake_timeout_secs);
    let authenticated = tokio::time::timeout(timeout, core.auth.handshake(req))
        .await
        .map_err(|_| {
            Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "handshake_timeout",
                "authentication did not finish in time",
            )
        })??;
    let user = authenticated.user.as_ref().map(|u| &*u.id);
    let (total, of_user) = core.index.connection_counts(user);
    let limits = &core.settings.limits;
    if total >= limits.max_connections {
        return Err(Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            format!(
                "this node holds its maximum of {} connections",
                limits.max_connections
            ),
        ));
    }
    if of_user >= limits.max_connections_per_user {
        return Err(Rejection::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_user_connections",
            format!(
                "a user may hold at most {} connections to this node",
                limits.max_connections_per_user
            ),
        ));
    }
    let mut response = actix_http::ws::handshake(req.head())
        .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, "bad_handshake", e.to_string()))?;
    if let Some(protocol) = &authenticated.subprotocol {
        // The token came as the only subprotocol: browsers abort unless it is echoed.
        response.insert_header((header::SEC_WEBSOCKET_PROTOCOL, protocol.as_str()));
    }
    core.metrics.connection_opened();
    // The session's writer is the response body: frames go from its outbox straight
    // to the socket.
    let writer = session::start(core.clone().into_inner(), body.into_inner(), authenticated);
    response
        .message_body(writer.boxed())
        .map(HttpResponse::from)
        .map_err(|e| Rejection::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))
}

/// Checks that cost nothing: the browser origin.
fn admit(req: &HttpRequest, core: &Core) -> Result<(), Rejection> {
    if core.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "this node is shutting down; reconnect to another",
        ));
    }
    let allowed = &core.settings.auth.allowed_origins;
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

async fn metrics(core: web::Data<Core>) -> HttpResponse {
    let text = super::SocketServer::new(core.into_inner()).metrics();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

fn refuse(rejection: Rejection) -> HttpResponse {
    tracing::debug!(code = rejection.code(), "handshake refused");
    rejection.into_response()
}
