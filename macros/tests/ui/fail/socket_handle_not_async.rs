use switchboard::prelude::*;

#[derive(SocketListener, Default)]
#[event("echo")]
pub struct Echo;

#[socket_handler]
impl Echo {
    pub fn handle(&self, packet: Packet<String>) -> Result<String, SocketError> {
        Ok(packet.data)
    }
}

fn main() {}
