//! Redis pub/sub as a [`Transport`]: a pub/sub connection whose subscriptions the bridge
//! manages, and a multiplexed connection that publishes each batch as one pipeline.
//!
//! A stream is a hash (`epoch`, `offset`) and a list of its last publications, both
//! expiring together; one Lua script per publication advances the offset, appends,
//! trims, refreshes the expiry and publishes, so the position and the history never
//! disagree and two nodes never share an offset.

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink};

use std::sync::Arc;
use std::time::Duration;

use super::{
    Arrival, Arrivals, Link, PresenceUpdate, StreamKeys, StreamLog, StreamPublish, Transport,
    TransportError,
};
use crate::presence::{PresenceMode, Snapshot};

mod presence;

/// KEYS: position, history. ARGV: topic, rest, size, ttl seconds, new epoch.
const PUBLISH_STREAM: &str = r#"
redis.call('HSETNX', KEYS[1], 'epoch', ARGV[5])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
redis.call('RPUSH', KEYS[2], offset .. '\n' .. ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[1], 'sb1 at=' .. offset .. ' ' .. epoch .. '\n' .. ARGV[2])
return offset
"#;

/// KEYS: position, history. ARGV: new epoch, ttl seconds, 1 to return the history.
const READ_STREAM: &str = r#"
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local offset = redis.call('HGET', KEYS[1], 'offset') or '0'
local history = {}
if ARGV[3] == '1' then
  history = redis.call('LRANGE', KEYS[2], 0, -1)
end
return {offset, epoch, history}
"#;

/// Connects to one Redis server (standalone or behind a proxy).
#[derive(Debug)]
pub(super) struct RedisTransport {
    client: redis::Client,
}

impl RedisTransport {
    /// Checks the URL; connecting is the bridge's business.
    pub(super) fn new(url: &str) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
        })
    }
}

/// An open pair of connections.
pub(super) struct RedisLink {
    sink: PubSubSink,
    publisher: MultiplexedConnection,
}

impl Transport for RedisTransport {
    type Link = RedisLink;
    const KIND: &'static str = "redis";

    async fn connect(&mut self) -> Result<(RedisLink, Arrivals), TransportError> {
        let pubsub = self
            .client
            .get_async_pubsub()
            .await
            .map_err(|e| TransportError::new("connect (pub/sub)", e))?;
        let publisher = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| TransportError::new("connect (publish)", e))?;
        let (sink, stream) = pubsub.split();
        let arrivals = stream.map(|message| Arrival {
            topic: message.get_channel_name().to_owned(),
            payload: message.get_payload_bytes().to_vec(),
        });
        Ok((RedisLink { sink, publisher }, Box::pin(arrivals)))
    }
}

impl Link for RedisLink {
    async fn subscribe(&mut self, topics: &[String]) -> Result<(), TransportError> {
        self.sink
            .subscribe(topics)
            .await
            .map_err(|e| TransportError::new("subscribe", e))
    }

    async fn unsubscribe(&mut self, topics: &[String]) -> Result<(), TransportError> {
        self.sink
            .unsubscribe(topics)
            .await
            .map_err(|e| TransportError::new("unsubscribe", e))
    }

    async fn publish(&mut self, batch: &[(String, Vec<u8>)]) -> Result<Vec<u64>, TransportError> {
        let mut pipe = redis::pipe();
        for (topic, payload) in batch {
            pipe.publish(topic, payload);
        }
        pipe.query_async::<Vec<u64>>(&mut self.publisher)
            .await
            .map_err(|e| TransportError::new("publish", e))
    }

    async fn publish_streams(&mut self, batch: &[StreamPublish]) -> Result<(), TransportError> {
        let mut pipe = redis::pipe();
        for publication in batch {
            pipe.cmd("EVAL")
                .arg(PUBLISH_STREAM)
                .arg(2)
                .arg(&publication.keys.position)
                .arg(&publication.keys.history)
                .arg(&publication.topic)
                .arg(&publication.rest)
                .arg(publication.spec.size())
                .arg(publication.spec.ttl().as_secs())
                .arg(&*publication.new_epoch)
                .ignore();
        }
        pipe.query_async::<()>(&mut self.publisher)
            .await
            .map_err(|e| TransportError::new("publish to a stream", e))
    }

    async fn read_stream(
        &mut self,
        keys: &StreamKeys,
        new_epoch: &str,
        ttl: Duration,
        history: bool,
    ) -> Result<StreamLog, TransportError> {
        let (offset, epoch, entries): (u64, String, Vec<Vec<u8>>) = redis::cmd("EVAL")
            .arg(READ_STREAM)
            .arg(2)
            .arg(&keys.position)
            .arg(&keys.history)
            .arg(new_epoch)
            .arg(ttl.as_secs())
            .arg(if history { "1" } else { "0" })
            .query_async(&mut self.publisher)
            .await
            .map_err(|e| TransportError::new("read a stream", e))?;
        Ok(StreamLog {
            offset,
            epoch: Arc::from(epoch),
            entries,
        })
    }

    async fn presence_update(
        &mut self,
        prefix: &str,
        node: &str,
        batch: &[PresenceUpdate],
    ) -> Result<(), TransportError> {
        presence::update(&mut self.publisher, prefix, node, batch).await
    }

    async fn presence_renew(
        &mut self,
        prefix: &str,
        node: &str,
        lease: Duration,
    ) -> Result<bool, TransportError> {
        presence::renew(&mut self.publisher, prefix, node, lease).await
    }

    async fn presence_claim(
        &mut self,
        prefix: &str,
        only: Option<&str>,
    ) -> Result<(), TransportError> {
        presence::claim(&mut self.publisher, prefix, only).await
    }

    async fn presence_read(
        &mut self,
        prefix: &str,
        channel: &str,
        mode: PresenceMode,
    ) -> Result<Snapshot, TransportError> {
        presence::read(&mut self.publisher, prefix, channel, mode).await
    }
}
