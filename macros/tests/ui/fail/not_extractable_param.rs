use switchboard::prelude::*;

pub struct Pool;

#[derive(ChannelListener, Default)]
#[channel("orders.{id}")]
pub struct Orders;

#[channel_events]
impl Orders {
    pub async fn place(&self, pool: Pool, count: u32) {
        let _ = (pool, count);
    }
}

fn main() {}
