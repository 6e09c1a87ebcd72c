//! A channel listener's own middleware runs on subscribe and before each event.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{connect_as, jwt_settings, start};
use serde_json::json;
use switchboard::auth::{BoxFuture, Middleware};
use switchboard::prelude::*;

static CHECKS: AtomicUsize = AtomicUsize::new(0);

/// Lets in users whose id starts with `member-`, counting every check.
struct MembersOnly;

impl Middleware for MembersOnly {
    fn channel<'a>(&'a self, conn: &'a Connection) -> BoxFuture<'a, Result<(), SocketError>> {
        Box::pin(async move {
            CHECKS.fetch_add(1, Ordering::SeqCst);
            match conn.user_id() {
                Some(id) if id.starts_with("member-") => Ok(()),
                _ => Err(SocketError::unauthorised("members only")),
            }
        })
    }
}

#[derive(ChannelListener, Default, Debug)]
#[channel("club.{name}")]
struct Club;

#[channel_events]
impl Club {
    fn middlewares(&self) -> Vec<Arc<dyn Middleware>> {
        vec![Arc::new(MembersOnly)]
    }

    pub async fn say(&self, ctx: EventContext) -> Result<(), SocketError> {
        ctx.broadcast("said", &json!({}))?;
        Ok(())
    }
}

#[actix_web::test]
async fn channel_middleware_refuses_subscribes_and_guards_events() {
    let server = start(jwt_settings()).await;
    let mut guest = connect_as(&server, "guest").await;
    let r = guest.subscribe("club.chess").await;
    assert_eq!(r["successful"], false);
    assert_eq!(
        (r["reason"].as_str(), r["message"].as_str()),
        (Some("unauthorised"), Some("members only"))
    );

    let mut member = connect_as(&server, "member-1").await;
    member.join("club.chess").await;
    let before = CHECKS.load(Ordering::SeqCst);
    for _ in 0..2 {
        member
            .send(json!({"event": "say", "channel": "club.chess"}))
            .await;
        assert_eq!(member.recv().await["event"], "said");
    }
    assert_eq!(
        CHECKS.load(Ordering::SeqCst) - before,
        2,
        "the middleware ran before each event"
    );
    server.stop().await;
}
