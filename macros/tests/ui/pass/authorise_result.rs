//! `is_authorised` may return `Result<(), E: Into<SocketError>>` and take an optional
//! user and the connection by value.
#![deny(warnings)]

use switchboard::prelude::*;

pub struct Member {
    pub admin: bool,
}

#[derive(ChannelListener, Default)]
#[channel("admin")]
pub struct Admin;

#[channel_events]
impl Admin {
    async fn is_authorised(
        &self,
        member: Option<&Member>,
        conn: Connection,
    ) -> Result<(), SocketError> {
        match member {
            Some(m) if m.admin && conn.user_id().is_some() => Ok(()),
            _ => Err(SocketError::unauthorised("admins only")),
        }
    }

    pub async fn shutdown(&self, member: &Member) -> Result<bool, SocketError> {
        Ok(member.admin)
    }
}

fn main() {}
