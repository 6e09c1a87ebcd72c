//! What operators and orchestrators ask: `PREFIX/healthz` (the process answers),
//! `PREFIX/readyz` (it can serve: the backplane is connected and it is not draining),
//! and `PREFIX/metrics` (Prometheus or OpenMetrics text, when `[metrics] enabled`). Served on the
//! public listener, or alone on `server.internal_bind` when that is set.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::node::Node;

pub(super) fn mount(cfg: &mut web::ServiceConfig, node: &Arc<Node>) {
    let prefix = &node.settings.routes_prefix;
    cfg.app_data(web::Data::from(node.clone()))
        .route(&format!("{prefix}/healthz"), web::get().to(healthz))
        .route(&format!("{prefix}/readyz"), web::get().to(readyz));
    #[cfg(feature = "metrics")]
    if node.settings.metrics.enabled {
        cfg.route(&format!("{prefix}/metrics"), web::get().to(metrics));
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 when new connections can be served everywhere; 503 naming why not, so a load
/// balancer sends them elsewhere (a draining node, or one cut off from the others).
async fn readyz(node: web::Data<Node>) -> HttpResponse {
    let mut reasons = Vec::new();
    if node.is_draining() {
        reasons.push("draining");
    }
    if !node.backplane().stats().connected {
        reasons.push("backplane_disconnected");
    }
    if reasons.is_empty() {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "not_ready", "reasons": reasons }))
    }
}

/// Prometheus' text format, or OpenMetrics when the scraper asks for it (Prometheus
/// does, in its `Accept` header).
#[cfg(feature = "metrics")]
async fn metrics(req: actix_web::HttpRequest, node: web::Data<Node>) -> HttpResponse {
    use crate::send::MetricsFormat;
    let wants_openmetrics = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let format = if wants_openmetrics {
        MetricsFormat::OpenMetrics
    } else {
        MetricsFormat::Prometheus
    };
    HttpResponse::Ok()
        .content_type(format.content_type())
        .body(node.server().metrics(format))
}
