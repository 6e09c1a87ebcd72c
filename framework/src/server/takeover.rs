//! Serving WebSocket connections outside actix's HTTP/1 dispatcher.
//!
//! Mounted as a route ([`Switchboard::configure`](super::Switchboard::configure)), a
//! connection stays inside actix-http's dispatcher for its life: an 8 KiB read buffer
//! and an 8 KiB write buffer, a task woken for every batch, and every batch copied once
//! more into the dispatcher's buffer. Switchboard's own server
//! ([`Switchboard::start`](super::Switchboard::start)) registers [`take_over`] as
//! actix-http's upgrade service instead: the dispatcher parses the request head and
//! hands over the socket, with what the client sent after it, and its task ends. The
//! handshake's checks are the route's ([`endpoint::accept`]); then the session reads
//! the socket and the connection's writer writes to it, with buffers that exist only
//! while bytes are in flight.

use std::io;
use std::rc::Rc;
use std::sync::Arc;

use actix_codec::{Encoder, Framed};
use actix_http::body::{BodySize, MessageBody};
use actix_http::h1::{Codec, Message};
use actix_http::{ConnectionType, Request, Response};
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use actix_web::rt::net::TcpStream;
use actix_web::web::BytesMut;

use super::endpoint::{self, Accepted};
use crate::auth::Rejection;
use crate::node::Node;
use crate::session::{self, Source};

/// The upgrade service: serves a request that asks for an upgrade, on any path (the
/// dispatcher sends every such request here, so other paths are answered 404).
pub(super) async fn take_over(
    node: Arc<Node>,
    (request, framed): (Request, Framed<TcpStream, Codec>),
) -> Result<(), actix_web::Error> {
    let request = http_request(&request);
    let parts = framed.into_parts();
    let mut codec = parts.codec;
    let socket = Rc::new(parts.io);
    let accepted = if node.settings.enabled && request.path() == node.settings.path {
        endpoint::accept(&request, &node).await
    } else {
        Err(Rejection::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no WebSocket endpoint at {}", request.path()),
        ))
    };
    let Accepted {
        response,
        authenticated,
        since,
    } = match accepted {
        Ok(accepted) => accepted,
        Err(rejection) => return refuse(&node, &socket, &mut codec, rejection).await,
    };
    let source = Source::Socket(socket.clone(), parts.read_buf);
    let writer = match session::start(node.clone(), source, authenticated, since) {
        Ok(writer) => writer,
        Err(reached) => {
            return refuse(&node, &socket, &mut codec, endpoint::cap_reached(reached)).await;
        }
    };
    // The `101` is the first thing the writer writes, before any queued frame.
    let mut preamble = BytesMut::new();
    let mut response = response;
    let switching = response.finish().drop_body();
    codec
        .encode(Message::Item((switching, BodySize::None)), &mut preamble)
        .map_err(actix_web::error::ErrorInternalServerError)?;
    actix_web::rt::spawn(writer.write_to(socket, preamble));
    Ok(())
}

/// The request as the middleware chain reads it (headers, query, peer address).
fn http_request(request: &Request) -> HttpRequest {
    let head = request.head();
    let mut built = actix_web::test::TestRequest::default()
        .method(head.method.clone())
        .uri(&head.uri.to_string())
        .version(head.version);
    for (name, value) in head.headers().iter() {
        built = built.append_header((name.clone(), value.clone()));
    }
    if let Some(peer) = head.peer_addr {
        built = built.peer_addr(peer);
    }
    built.to_http_request()
}

/// Answers a refused handshake with the route's status and JSON body, then closes.
async fn refuse(
    node: &Node,
    socket: &TcpStream,
    codec: &mut Codec,
    rejection: Rejection,
) -> Result<(), actix_web::Error> {
    node.metrics()
        .handshake_refused(rejection.status().as_u16(), rejection.code());
    let response: Response<_> = endpoint::refuse(rejection).into();
    let (mut head, body) = response.into_parts();
    let body = body.try_into_bytes().unwrap_or_default();
    head.head_mut().set_connection_type(ConnectionType::Close);
    let mut out = BytesMut::new();
    codec
        .encode(
            Message::Item((head.drop_body(), BodySize::Sized(body.len() as u64))),
            &mut out,
        )
        .map_err(actix_web::error::ErrorInternalServerError)?;
    out.extend_from_slice(&body);
    // A client that went away meanwhile is not an error of ours.
    let _ = write_all(socket, &out).await;
    let _ = socket2::SockRef::from(socket).shutdown(std::net::Shutdown::Write);
    Ok(())
}

async fn write_all(socket: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        socket.writable().await?;
        match socket.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
