use switchboard::prelude::*;

#[derive(SocketListener, Default)]
#[event("subscribe-channel-request")]
pub struct Subscribe;

#[socket_handler]
impl Subscribe {
    async fn handle(&self) {}
}

fn main() {}
