//! A channel listener's own middleware runs on subscribe and before each event.
//! Written with `switchboard::testing`, as an application's tests would be.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use switchboard::Switchboard;
use switchboard::auth::{BoxFuture, Middleware};
use switchboard::prelude::*;
use switchboard::testing::{self, TestClient, TestError};

const SECRET: &str = "a-test-secret-of-at-least-32-bytes!";

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

async fn connect_as(server: &switchboard::Running, user: &str) -> Result<TestClient, TestError> {
    TestClient::connect_with_token(server, &testing::dev_token(SECRET, user)?).await
}

#[actix_web::test]
async fn channel_middleware_refuses_subscribes_and_guards_events() -> Result<(), TestError> {
    let server = testing::start(Switchboard::builder(testing::jwt_settings(SECRET)))?;
    let mut guest = connect_as(&server, "guest").await?;
    match guest.subscribe("club.chess").await {
        Err(TestError::Refused {
            reason, message, ..
        }) => assert_eq!(
            (reason.as_deref(), message.as_str()),
            (Some("unauthorised"), "members only")
        ),
        other => panic!("the guest was not refused: {other:?}"),
    }

    let mut member = connect_as(&server, "member-1").await?;
    member.subscribe("club.chess").await?;
    let before = CHECKS.load(Ordering::SeqCst);
    for _ in 0..2 {
        member.emit("club.chess", "say", json!(null)).await?;
        member.expect_channel_event("club.chess", "said").await?;
    }
    assert_eq!(
        CHECKS.load(Ordering::SeqCst) - before,
        2,
        "the middleware ran before each event"
    );
    server.stop().await;
    Ok(())
}
