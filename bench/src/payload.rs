//! What publishers send, how subscribers read it back, and the clock they share.
//!
//! Every message carries `{"pad": "xxx…", "publisher": P, "seq": S, "sent_at_ns": T}`:
//! [`PADDING`] bytes of padding (the reference workload's message size), who sent it,
//! its number in that publisher's sequence, and when, in nanoseconds of [`now_ns`].
//! Publishers and subscribers live in one process, so they share that clock.
//!
//! Subscribers do not parse JSON: [`read_stamp`] finds the three numbers by a byte
//! search from the end of the frame (where `data` is), so it reads a few dozen bytes
//! per delivery and allocates nothing. The framework re-serializes `data` (keys may
//! come back in another order) and the raw server forwards the text as it is; the
//! search reads both.

use std::sync::OnceLock;
use std::time::Instant;

use crate::Target;

/// The broadcast channel of S1..S3.
pub const BROADCAST_CHANNEL: &str = "bench.0";

/// Raw server: subscribe this connection to a topic (`S TOPIC`); answered `ok`.
pub const RAW_SUBSCRIBE: &str = "S ";
/// Raw server: the answer to a subscribe.
pub const RAW_SUBSCRIBED: &str = "ok";
/// Raw server: deliver to one topic (`P TOPIC PAYLOAD`); answered [`RAW_ACK`].
pub const RAW_ROUTE: &str = "P ";
/// Raw server: the answer to a routed message.
pub const RAW_ACK: &str = "+";

/// The framework's heartbeat and its answer.
pub const PING: &str = r#"{"event":"ping","data":{}}"#;
/// The answer to [`PING`].
pub const PONG: &str = r#"{"event":"pong","data":{}}"#;

/// Nanoseconds since the first call in this process (a monotonic clock).
pub fn now_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// One message's identity and send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The publisher's index.
    pub publisher: u32,
    /// Its sequence number, from 0.
    pub seq: u64,
    /// [`now_ns`] when it was sent.
    pub sent_at_ns: u64,
}

/// Bytes of padding in every message's `data` (the reference workload's 64).
pub const PADDING: usize = 64;

fn pad() -> &'static str {
    const PAD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    &PAD[..PADDING]
}

fn data(stamp: &Stamp) -> String {
    format!(
        r#"{{"pad":"{}","publisher":{},"seq":{},"sent_at_ns":{}}}"#,
        pad(),
        stamp.publisher,
        stamp.seq,
        stamp.sent_at_ns
    )
}

/// A message to every subscriber of `channel`. The raw server broadcasts the same text
/// to every connection.
pub fn broadcast_frame(channel: &str, stamp: &Stamp) -> String {
    format!(
        r#"{{"event":"publish","channel":"{channel}","data":{}}}"#,
        data(stamp)
    )
}

/// A message to one channel (`user:chat.ID`) only, answered with an ack: through the
/// framework's `route` socket event, or the raw server's `P TOPIC PAYLOAD`.
pub fn routed_frame(target: Target, channel: &str, stamp: &Stamp) -> String {
    match target {
        Target::Framework => format!(
            r#"{{"event":"route","id":{},"data":{{"to":"{channel}","pad":"{}","publisher":{},"seq":{},"sent_at_ns":{}}}}}"#,
            stamp.seq,
            pad(),
            stamp.publisher,
            stamp.seq,
            stamp.sent_at_ns
        ),
        Target::Raw => format!("{RAW_ROUTE}{channel} {}", data(stamp)),
    }
}

/// Reads a message's stamp; `None` for any other frame.
///
/// Walks back from the end over the quotes only, and stops once the three keys are
/// found: `data` is the last member of every frame that carries a stamp.
pub fn read_stamp(text: &[u8]) -> Option<Stamp> {
    let (mut publisher, mut seq, mut sent_at_ns) = (None, None, None);
    let mut end = text.len();
    while let Some(quote) = text[..end].iter().rposition(|&b| b == b'"') {
        let key = &text[quote + 1..];
        if let Some(digits) = key.strip_prefix(b"seq\":") {
            seq = seq.or(number(digits));
        } else if let Some(digits) = key.strip_prefix(b"publisher\":") {
            publisher = publisher.or(number(digits));
        } else if let Some(digits) = key.strip_prefix(b"sent_at_ns\":") {
            sent_at_ns = sent_at_ns.or(number(digits));
        }
        if let (Some(publisher), Some(seq), Some(sent_at_ns)) = (publisher, seq, sent_at_ns) {
            return Some(Stamp {
                publisher: u32::try_from(publisher).ok()?,
                seq,
                sent_at_ns,
            });
        }
        end = quote;
    }
    None
}

/// The decimal number at the start of `bytes` (`None` if none, or if it overflows).
fn number(bytes: &[u8]) -> Option<u64> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 {
        return None;
    }
    bytes[..digits].iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// The subscriber a routed message goes to: a fixed hash of its identity, so each
/// subscriber can tell which messages were meant for it without being told.
pub fn route_target(publisher: u32, seq: u64, subscribers: usize) -> usize {
    // splitmix64
    let mut z = (u64::from(publisher) << 40 ^ seq).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    usize::try_from(z % subscribers.max(1) as u64).unwrap_or(0)
}

/// The private channel of routed subscriber `index` (its user id is `index`).
pub fn user_channel(index: usize) -> String {
    format!("user:chat.{index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAMP: Stamp = Stamp {
        publisher: 3,
        seq: 41,
        sent_at_ns: 123_456_789,
    };

    #[test]
    fn stamps_read_back_from_every_shape() {
        let broadcast = broadcast_frame("bench.0", &STAMP);
        assert_eq!(read_stamp(broadcast.as_bytes()), Some(STAMP));
        let value: serde_json::Value = serde_json::from_str(&broadcast).expect("json");
        assert_eq!(value["data"]["pad"].as_str().map(str::len), Some(PADDING));
        // What the framework sends back: data re-serialized, keys sorted.
        let delivered = r#"{"event":"message","channel":"bench.0","data":{"pad":"xx","publisher":3,"sent_at_ns":123456789,"seq":41}}"#;
        assert_eq!(read_stamp(delivered.as_bytes()), Some(STAMP));
        let raw = routed_frame(Target::Raw, "user:chat.7", &STAMP);
        let payload = raw.splitn(3, ' ').nth(2).expect("payload");
        assert_eq!(read_stamp(payload.as_bytes()), Some(STAMP));
        let routed = routed_frame(Target::Framework, "user:chat.7", &STAMP);
        let value: serde_json::Value = serde_json::from_str(&routed).expect("json");
        assert_eq!(value["data"]["to"], "user:chat.7");
        assert_eq!(read_stamp(routed.as_bytes()), Some(STAMP));
        assert_eq!(read_stamp(PING.as_bytes()), None);
        assert_eq!(read_stamp(br#"{"seq":1,"publisher":2}"#), None);
        assert_eq!(
            read_stamp(br#"{"seq":,"publisher":2,"sent_at_ns":3}"#),
            None
        );
        let huge = br#"{"seq":99999999999999999999999,"publisher":2,"sent_at_ns":3}"#;
        assert_eq!(read_stamp(huge), None);
    }

    #[test]
    fn route_targets_spread_over_all_subscribers() {
        let mut hits = [0u32; 10];
        for seq in 0..10_000 {
            hits[route_target(1, seq, 10)] += 1;
        }
        assert!(hits.iter().all(|&n| (800..1200).contains(&n)), "{hits:?}");
    }
}
