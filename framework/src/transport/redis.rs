//! Redis pub/sub as a [`Transport`]: a pub/sub connection whose subscriptions the bridge
//! manages, and a multiplexed connection that publishes each batch as one pipeline.

use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink};

use super::{Arrival, Arrivals, Link, Transport, TransportError};

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
}
