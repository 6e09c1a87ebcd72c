//! Topics: where a cross-node message is published, and their names on the wire.

use std::sync::Arc;

use crate::delivery::Target;
use crate::ids::ConnectionId;
use crate::stream::user_stream;

/// Where a message is addressed, across nodes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Topic {
    /// Broadcasts on one concrete channel; nodes with a subscriber listen.
    Channel(Arc<str>),
    /// Sends to one user; nodes with a connection of that user listen.
    User(Arc<str>),
    /// Sends to one connection; only the node holding it listens.
    Node(Arc<str>),
    /// Sends to every connection; every node listens.
    All,
}

impl Topic {
    /// The topic a send to `target` is published on.
    pub(crate) fn of(target: &Target) -> Self {
        match target {
            Target::Channel { name, .. } => Self::Channel(name.clone()),
            Target::User { id, .. } => Self::User(id.clone()),
            Target::Connection(id) => Self::Node(node_of(id).into()),
            Target::Everyone => Self::All,
        }
    }
}

fn node_of(id: &ConnectionId) -> &str {
    id.node()
}

/// Topic names under the configured prefix: `PREFIX:ch:CHANNEL`, `PREFIX:user:ID`,
/// `PREFIX:node:NODE`, `PREFIX:all`.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    prefix: Arc<str>,
}

impl Names {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    /// Where the broker keeps the position and history of the stream published on
    /// `topic`: `PREFIX:stream:CHANNEL` for a channel, `PREFIX:stream:#user:ID` for a
    /// user (only those two topics carry streams).
    pub(crate) fn stream(&self, topic: &Topic) -> super::StreamKeys {
        let prefix = &self.prefix;
        let name = match topic {
            Topic::User(user) => user_stream(user),
            Topic::Channel(channel) => channel.clone(),
            Topic::Node(_) | Topic::All => self.of(topic).into(),
        };
        super::StreamKeys {
            position: format!("{prefix}:stream:{name}"),
            history: format!("{prefix}:stream:{name}:log"),
        }
    }

    /// The prefix every key and topic of this deployment starts with.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn of(&self, topic: &Topic) -> String {
        let prefix = &self.prefix;
        match topic {
            Topic::Channel(c) => format!("{prefix}:ch:{c}"),
            Topic::User(u) => format!("{prefix}:user:{u}"),
            Topic::Node(n) => format!("{prefix}:node:{n}"),
            Topic::All => format!("{prefix}:all"),
        }
    }

    pub(crate) fn parse(&self, name: &str) -> Option<Topic> {
        let rest = name.strip_prefix(&*self.prefix)?.strip_prefix(':')?;
        if rest == "all" {
            return Some(Topic::All);
        }
        let (kind, value) = rest.split_once(':')?;
        let value: Arc<str> = value.into();
        match kind {
            "ch" => Some(Topic::Channel(value)),
            "user" => Some(Topic::User(value)),
            "node" => Some(Topic::Node(value)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_round_trip() {
        let names = Names::new("sb");
        for topic in [
            Topic::Channel("user:chat.42".into()),
            Topic::User("alice".into()),
            Topic::Node("abc123".into()),
            Topic::All,
        ] {
            assert_eq!(names.parse(&names.of(&topic)), Some(topic));
        }
        assert_eq!(names.parse("other:ch:x"), None);
    }

    #[test]
    fn a_target_is_published_on_its_topic() {
        assert_eq!(
            Topic::of(&Target::Connection(ConnectionId::from("abc-7"))),
            Topic::Node("abc".into())
        );
        assert_eq!(Topic::of(&Target::user("bob")), Topic::User("bob".into()));
    }
}
