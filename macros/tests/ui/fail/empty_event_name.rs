use switchboard::prelude::*;

#[derive(SocketListener, Default)]
#[event("")]
pub struct Nameless;

#[socket_handler]
impl Nameless {
    async fn handle(&self) {}
}

fn main() {}
