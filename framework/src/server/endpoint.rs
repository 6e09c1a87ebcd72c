//! The HTTP route that upgrades a request to a WebSocket session.

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

async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    core: web::Data<Core>,
) -> actix_web::Result<HttpResponse> {
    let (response, ws, stream) = actix_ws::handle(&req, body)?;
    session::start(core.into_inner(), ws, stream, None);
    Ok(response)
}
