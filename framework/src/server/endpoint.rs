//! The HTTP route that authenticates a request and upgrades it to a WebSocket session.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::Core;
use crate::session;

pub(super) fn mount(cfg: &mut web::ServiceConfig, core: Arc<Core>) {
    if !core.settings.enabled {
        return;
    }
    let path = core.settings.path.clone();
    cfg.app_data(web::Data::from(core))
        .route(&path, web::get().to(upgrade));
}

/// Runs the middleware chain before upgrading: a refused handshake is answered with
/// its status and JSON reason, and no socket is opened.
async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    core: web::Data<Core>,
) -> actix_web::Result<HttpResponse> {
    let authenticated = match core.auth.handshake(&req).await {
        Ok(authenticated) => authenticated,
        Err(rejection) => {
            tracing::debug!(code = rejection.code(), "handshake refused");
            return Ok(rejection.into_response());
        }
    };
    let mut response = actix_http::ws::handshake(req.head())?;
    if let Some(protocol) = &authenticated.subprotocol {
        // The token came as the only subprotocol: browsers abort unless it is echoed.
        response.insert_header((header::SEC_WEBSOCKET_PROTOCOL, protocol.as_str()));
    }
    // The session's writer is the response body: frames go from its outbox straight
    // to the socket.
    let writer = session::start(core.into_inner(), body.into_inner(), authenticated);
    Ok(HttpResponse::from(response.message_body(writer.boxed())?))
}
