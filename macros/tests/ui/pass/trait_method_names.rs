//! Events may share names with the generated trait methods (`dispatch`,
//! `authorise`) and use raw identifiers; the generated code calls them with UFCS.
#![deny(warnings)]

use switchboard::prelude::*;

#[derive(ChannelListener, Default)]
#[channel("jobs")]
pub struct Jobs;

#[channel_events]
impl Jobs {
    pub async fn dispatch(&self) -> Result<u8, SocketError> {
        Ok(1)
    }

    pub async fn authorise(&self, _conn: &Connection) {}

    pub async fn r#type(&self) {}
}

fn main() {
    use switchboard::__private::ChannelEvents;
    assert_eq!(Jobs::EVENTS, ["dispatch", "authorise", "type"]);
}
