//! Socket listeners: one event, one `async fn handle` of any visibility.
#![deny(warnings)]

use serde_json::Value;
use switchboard::prelude::*;

pub struct AppUser {
    pub name: String,
}

#[derive(SocketListener, Default)]
#[event("echo")]
pub struct Echo;

#[socket_handler]
impl Echo {
    async fn handle(&self, ctx: EventContext, packet: Packet<Value>) -> Result<(), SocketError> {
        ctx.reply("echo", &packet.data)?;
        Ok(())
    }
}

#[derive(SocketListener, Default)]
#[event("whoami")]
pub struct WhoAmI;

#[socket_handler]
impl WhoAmI {
    pub async fn handle(
        &self,
        user: Option<&AppUser>,
        conn: &Connection,
    ) -> Result<String, SocketError> {
        let _ = conn.id();
        Ok(user.map_or_else(String::new, |u| u.name.clone()))
    }

    fn unrelated(&self) {}
}

#[derive(SocketListener, Default)]
#[event("ping-me")]
pub struct PingMe;

#[socket_handler]
impl PingMe {
    async fn handle(&self) {
        self.unrelated_too();
    }

    fn unrelated_too(&self) {}
}

fn main() {
    use switchboard::__private::SocketListener;
    assert_eq!(Echo::EVENT, "echo");
    assert_eq!(WhoAmI::NAME, "WhoAmI");
    WhoAmI.unrelated();
}
