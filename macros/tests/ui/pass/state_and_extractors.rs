//! `State<T>` and custom `FromInvocation` types are parameters of hooks and events.
#![deny(warnings)]

use switchboard::prelude::*;
use switchboard::{FromInvocation, Invocation};

pub struct Pool {
    pub name: &'static str,
}

pub struct Caller(pub String);

impl FromInvocation for Caller {
    fn from_invocation(invocation: &Invocation) -> Result<Self, SocketError> {
        Ok(Self(invocation.connection().id().to_string()))
    }
}

#[derive(ChannelListener, Default)]
#[channel("orders.{id}")]
pub struct Orders;

#[channel_events]
impl Orders {
    async fn is_authorised(&self, pool: State<Pool>, caller: Caller) -> bool {
        !pool.name.is_empty() && !caller.0.is_empty()
    }

    pub async fn place(&self, pool: State<Pool>, packet: Packet<u32>) -> Result<String, SocketError> {
        Ok(format!("{} x{}", pool.name, packet.data))
    }
}

fn main() {
    use switchboard::__private::ChannelEvents;
    assert_eq!(Orders::STATE_TYPES.len(), 1);
}
