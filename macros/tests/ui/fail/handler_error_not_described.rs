use switchboard::prelude::*;

/// An application error that does not say what a client reads of it.
#[derive(Debug)]
pub struct Missing;

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("missing")
    }
}

impl std::error::Error for Missing {}

fn lookup() -> Result<u32, Missing> {
    Err(Missing)
}

#[derive(ChannelListener, Default)]
#[channel("chat")]
pub struct Chat;

#[channel_events]
impl Chat {
    pub async fn count(&self) -> Result<u32, SocketError> {
        Ok(lookup()?)
    }
}

fn main() {}
