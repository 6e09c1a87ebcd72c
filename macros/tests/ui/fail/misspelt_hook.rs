use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("vault.{id}")]
pub struct Vault;

#[channel_events]
impl Vault {
    pub async fn is_authorized(&self, conn: &Connection) -> bool {
        conn.user_id() == Some("owner")
    }

    async fn isAuthorised(&self) -> bool {
        false
    }
}

fn main() {}
