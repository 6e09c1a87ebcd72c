use std::sync::Arc;

use switchboard::auth::Middleware;
use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("club.{name}")]
pub struct Club;

#[channel_events]
impl Club {
    fn middlewares(&self, conn: &Connection) -> Vec<Arc<dyn Middleware>> {
        let _ = conn;
        Vec::new()
    }
}

fn main() {}
