use switchboard::prelude::*;

#[derive(SocketListener, Default)]
#[event("echo")]
pub struct Echo;

#[socket_handler]
impl Echo {
    async fn handler(&self) {}
}

fn main() {}
