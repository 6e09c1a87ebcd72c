//! The HTTP route that authenticates a request and upgrades it to a WebSocket session.

use std::sync::Arc;

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
    let protocols: Vec<&str> = authenticated.subprotocol.as_deref().into_iter().collect();
    // actix-ws answers the handshake and reads frames; the session's writer replaces
    // its response body, so outgoing frames go from the outbox straight to the socket.
    let (response, ws, stream) = actix_ws::handle_with_protocols(&req, body, &protocols)?;
    drop(ws);
    let (response, upstream) = response.into_parts();
    let writer = session::start(core.into_inner(), upstream, stream, authenticated);
    Ok(response.set_body(writer).map_into_boxed_body())
}
