use switchboard::prelude::*;

#[channel_events]
pub struct Chat;

fn main() {}
