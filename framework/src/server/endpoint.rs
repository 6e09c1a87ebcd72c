//! The HTTP route that authenticates a request and upgrades it to a WebSocket session.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};

use super::Core;
use crate::session;

pub(super) fn mount(cfg: &mut web::ServiceConfig, core: Arc<Core>) {
    if !core.settings.enabled {
        return;
    }
    super::client_js::mount(cfg);
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
    let (response, ws, stream) = actix_ws::handle_with_protocols(&req, body, &protocols)?;
    session::start(core.into_inner(), ws, stream, authenticated);
    Ok(response)
}
