//! [`Initiator`] as an actix extractor: the `X-Socket-Id` header, kept only when that
//! connection belongs to the user the request authenticates as.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::ids::ConnectionId;
use crate::node::Node;
use crate::send::Initiator;

/// The header the browser client puts on its same-origin requests.
pub(crate) const SOCKET_ID_HEADER: &str = "x-socket-id";

impl FromRequest for Initiator {
    type Error = std::convert::Infallible;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(identify(&req).await) })
    }
}

/// The initiator a request names, if it may be trusted: a connection on this node whose
/// user is the request's (a connection on another node cannot be checked here, and
/// an anonymous one belongs to nobody in particular).
async fn identify(req: &HttpRequest) -> Initiator {
    let Some(named) = req
        .headers()
        .get(SOCKET_ID_HEADER)
        .and_then(|value| value.to_str().ok())
    else {
        return Initiator::none();
    };
    let Some(node) = req.app_data::<web::Data<Node>>() else {
        return Initiator::none();
    };
    let Some(Some(owner)) = node.delivery().index().user_of(named) else {
        return Initiator::none();
    };
    let caller = match node.auth.handshake(req).await {
        Ok(authenticated) => authenticated.user.map(|user| user.id),
        Err(_) => None,
    };
    if caller.as_deref() == Some(&*owner) {
        Initiator::trusted(ConnectionId::from(named), Some(owner))
    } else {
        tracing::debug!(
            connection = named,
            "X-Socket-Id names another user's connection: ignored"
        );
        Initiator::none()
    }
}
