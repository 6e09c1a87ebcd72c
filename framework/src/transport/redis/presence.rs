//! Presence on Redis: Lua scripts, so each decision (first connection anywhere, last
//! one, a dead node's counts) and its publication are one atomic step.
//!
//! Keys, under `PREFIX:presence:` (the channel in braces, so one channel's keys share a
//! Redis Cluster slot):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{CH}:node:NODE` | hash | user → that node's connections of the user on CH |
//! | `{CH}:users` | hash | user → how many nodes hold a connection of the user |
//! | `{CH}:info` | hash | user → their `info` JSON, or "" (members mode only) |
//! | `{CH}:conns` | string | connections on CH, every node together |
//! | `node:NODE` | set | `m\|CH` / `c\|CH`: the channels (and modes) NODE holds counts on |
//! | `leases` | sorted set | NODE → when its lease runs out (ms, Redis's clock) |
//!
//! The claim script reads keys it computes (a node's channels), which Redis Cluster
//! does not allow: presence, like the rest of this transport, needs one Redis server.

use redis::aio::MultiplexedConnection;
use serde_json::Value;

use super::super::{PresenceUpdate, TransportError};
use crate::presence::{Member, PresenceMode, Snapshot};

/// Builds the key names of channel `ch` (shared by every script below).
const KEYS: &str = r#"
local function channel_key(prefix, ch, suffix)
  return prefix .. ':presence:{' .. ch .. '}:' .. suffix
end
local function node_channels(prefix, node)
  return prefix .. ':presence:node:' .. node
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"#;

/// ARGV: prefix, node, then per update: channel, user, connections, info, mode (m|c),
/// topic, join envelope, leave envelope.
const UPDATE: &str = r#"
local prefix, node = ARGV[1], ARGV[2]
local changed = 0
for i = 3, #ARGV, 8 do
  local ch, user, new, info, mode = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2]), ARGV[i+3], ARGV[i+4]
  local topic, join, leave = ARGV[i+5], ARGV[i+6], ARGV[i+7]
  local mine = channel_key(prefix, ch, 'node:' .. node)
  local old = tonumber(redis.call('HGET', mine, user) or '0')
  if old ~= new then
    changed = changed + 1
    if new > 0 then redis.call('HSET', mine, user, new) else redis.call('HDEL', mine, user) end
    local conns = redis.call('INCRBY', channel_key(prefix, ch, 'conns'), new - old)
    if conns <= 0 then redis.call('DEL', channel_key(prefix, ch, 'conns')) end
    local member = mode .. '|' .. ch
    if redis.call('EXISTS', mine) == 1 then
      redis.call('SADD', node_channels(prefix, node), member)
    else
      redis.call('SREM', node_channels(prefix, node), member)
    end
    local users = channel_key(prefix, ch, 'users')
    if old == 0 then
      if redis.call('HINCRBY', users, user, 1) == 1 and mode == 'm' then
        redis.call('HSET', channel_key(prefix, ch, 'info'), user, info)
        redis.call('PUBLISH', topic, join)
      end
    elseif new == 0 then
      if redis.call('HINCRBY', users, user, -1) <= 0 then
        redis.call('HDEL', users, user)
        if mode == 'm' then
          redis.call('HDEL', channel_key(prefix, ch, 'info'), user)
          redis.call('PUBLISH', topic, leave)
        end
      end
    end
  end
end
return changed
"#;

/// ARGV: prefix, node, lease in ms. Returns 1 when the node still held its lease.
const RENEW: &str = r#"
local leases = ARGV[1] .. ':presence:leases'
local held = redis.call('ZSCORE', leases, ARGV[2])
redis.call('ZADD', leases, now_ms() + tonumber(ARGV[3]), ARGV[2])
if held then return 1 else return 0 end
"#;

/// ARGV: prefix, and a node to release (or "" for every node whose lease ran out).
/// The leave is written here (the node that knew the user's envelope is gone); its
/// envelope is what `Envelope::encode` writes for a channel broadcast from
/// `presence::BROKER_ORIGIN`, on the topic `topic.rs` names `PREFIX:ch:CH`.
const CLAIM: &str = r#"
local prefix, only = ARGV[1], ARGV[2]
local leases = prefix .. ':presence:leases'
local gone
if only ~= '' then
  gone = {only}
else
  gone = redis.call('ZRANGEBYSCORE', leases, '-inf', now_ms(), 'LIMIT', 0, 16)
end
local left = 0
for _, node in ipairs(gone) do
  local set = node_channels(prefix, node)
  for _, member in ipairs(redis.call('SMEMBERS', set)) do
    local mode, ch = string.sub(member, 1, 1), string.sub(member, 3)
    local theirs = channel_key(prefix, ch, 'node:' .. node)
    local users = channel_key(prefix, ch, 'users')
    local entries = redis.call('HGETALL', theirs)
    local dropped = 0
    for i = 1, #entries, 2 do
      local user = entries[i]
      dropped = dropped + tonumber(entries[i+1])
      if redis.call('HINCRBY', users, user, -1) <= 0 then
        redis.call('HDEL', users, user)
        if mode == 'm' then
          redis.call('HDEL', channel_key(prefix, ch, 'info'), user)
          local packet = '{"event":"presence-leave","channel":' .. cjson.encode(ch)
            .. ',"data":{"user_id":' .. cjson.encode(user) .. '}}'
          redis.call('PUBLISH', prefix .. ':ch:' .. ch, 'sb1\npresence\n\n\n\n' .. packet)
          left = left + 1
        end
      end
    end
    if redis.call('DECRBY', channel_key(prefix, ch, 'conns'), dropped) <= 0 then
      redis.call('DEL', channel_key(prefix, ch, 'conns'))
    end
    redis.call('DEL', theirs)
  end
  redis.call('DEL', set)
  redis.call('ZREM', leases, node)
end
return left
"#;

/// ARGV: prefix, channel, mode. Returns users, connections and (members mode) the
/// info hash as a flat list.
const READ: &str = r#"
local prefix, ch = ARGV[1], ARGV[2]
local count = redis.call('HLEN', channel_key(prefix, ch, 'users'))
local conns = tonumber(redis.call('GET', channel_key(prefix, ch, 'conns')) or '0')
local members = {}
if ARGV[3] == 'm' then members = redis.call('HGETALL', channel_key(prefix, ch, 'info')) end
return {count, conns, members}
"#;

/// `EVAL` of one of the scripts above, with no declared keys (see the module's note).
fn script(body: &str) -> redis::Cmd {
    let mut eval = redis::cmd("EVAL");
    eval.arg(format!("{KEYS}{body}")).arg(0);
    eval
}

pub(super) async fn update(
    publisher: &mut MultiplexedConnection,
    prefix: &str,
    node: &str,
    batch: &[PresenceUpdate],
) -> Result<(), TransportError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut invocation = script(UPDATE);
    invocation.arg(prefix).arg(node);
    for u in batch {
        invocation
            .arg(&*u.channel)
            .arg(&*u.user)
            .arg(u.connections)
            .arg(&u.info)
            .arg(u.mode.letter())
            .arg(&u.topic)
            .arg(&u.join)
            .arg(&u.leave);
    }
    invocation
        .query_async::<u64>(publisher)
        .await
        .map(drop)
        .map_err(|e| TransportError::new("update presence", e))
}

pub(super) async fn renew(
    publisher: &mut MultiplexedConnection,
    prefix: &str,
    node: &str,
    lease: std::time::Duration,
) -> Result<bool, TransportError> {
    let held: u8 = script(RENEW)
        .arg(prefix)
        .arg(node)
        .arg(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
        .query_async(publisher)
        .await
        .map_err(|e| TransportError::new("renew the presence lease", e))?;
    Ok(held == 1)
}

pub(super) async fn claim(
    publisher: &mut MultiplexedConnection,
    prefix: &str,
    only: Option<&str>,
) -> Result<(), TransportError> {
    script(CLAIM)
        .arg(prefix)
        .arg(only.unwrap_or(""))
        .query_async::<u64>(publisher)
        .await
        .map(drop)
        .map_err(|e| TransportError::new("claim lost presence", e))
}

pub(super) async fn read(
    publisher: &mut MultiplexedConnection,
    prefix: &str,
    channel: &str,
    mode: PresenceMode,
) -> Result<Snapshot, TransportError> {
    let (count, connections, flat): (u64, u64, Vec<String>) = script(READ)
        .arg(prefix)
        .arg(channel)
        .arg(mode.letter())
        .query_async(publisher)
        .await
        .map_err(|e| TransportError::new("read presence", e))?;
    let members = mode.lists_members().then(|| {
        let mut members: Vec<Member> = flat
            .chunks_exact(2)
            .map(|pair| Member {
                user_id: pair[0].as_str().into(),
                // Written by a node from a `Value`; anything else is no info at all.
                info: serde_json::from_str::<Value>(&pair[1]).ok(),
            })
            .collect();
        members.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        members
    });
    Ok(Snapshot {
        count,
        connections,
        members,
    })
}
