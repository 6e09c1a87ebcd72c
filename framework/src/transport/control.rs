//! Server-side control on the wire: an instruction for some connections' sessions
//! (re-authorise, subscribe, unsubscribe, disconnect), published on the topic of those
//! it is for (a user's, or the node holding a connection).
//!
//! ```text
//! sb1 control\n ORIGIN_NODE \n ASK \n ACTION \n ARGUMENT
//! ```
//! `ASK` is the asker's number when it waits for a receipt (the node that applied the
//! instruction answers as for a send, see `envelope`), or `-`. `ARGUMENT` is the user id
//! for `reauthorise`, and JSON for the others (JSON escapes newlines, so it cannot shift
//! a header).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ids::ConnectionId;

const CONTROL: &str = "sb1 control";
const NO_ASK: &str = "-";

/// Which connections an instruction is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Who {
    /// Every connection of a user, on every node.
    User(Arc<str>),
    /// One connection, on the node that holds it.
    Connection(ConnectionId),
}

/// How the server closes connections it disconnects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Closing {
    /// The close code: 1000, 1008 or one of the application's, 3000 to 4999.
    pub(crate) code: u16,
    /// Sent in the close frame and the `disconnect` packet.
    pub(crate) reason: String,
    /// Whether the client should reconnect by itself.
    pub(crate) reconnect: bool,
}

/// An instruction for some connections' sessions, wherever they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Control {
    /// Authorise every subscription of this user's connections again.
    Reauthorise { user: Arc<str> },
    /// Subscribe them to a channel (the server decided: no authorisation runs).
    Subscribe { who: Who, channel: Arc<str> },
    /// Take them out of a channel, telling them why.
    Unsubscribe {
        who: Who,
        channel: Arc<str>,
        reason: Arc<str>,
    },
    /// Close them.
    Disconnect { who: Who, closing: Closing },
}

/// The JSON argument of the instructions other than `reauthorise`.
#[derive(Serialize, Deserialize)]
struct Argument {
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    closing: Option<Closing>,
}

impl Argument {
    fn of(who: &Who) -> Self {
        let (user, connection) = match who {
            Who::User(user) => (Some(user.to_string()), None),
            Who::Connection(id) => (None, Some(id.as_str().to_owned())),
        };
        Self {
            user,
            connection,
            channel: None,
            reason: None,
            closing: None,
        }
    }

    fn who(&self) -> Option<Who> {
        match (&self.user, &self.connection) {
            (Some(user), None) if !user.is_empty() => Some(Who::User(user.as_str().into())),
            (None, Some(id)) if !id.is_empty() => Some(Who::Connection(id.as_str().into())),
            _ => None,
        }
    }
}

impl Control {
    /// Whose sessions it is for.
    pub(crate) fn who(&self) -> Who {
        match self {
            Self::Reauthorise { user } => Who::User(user.clone()),
            Self::Subscribe { who, .. }
            | Self::Unsubscribe { who, .. }
            | Self::Disconnect { who, .. } => who.clone(),
        }
    }

    /// The bytes to publish; `None` when the origin or a user id holds a newline.
    pub(crate) fn encode(&self, origin: &str, ask: Option<u64>) -> Option<Vec<u8>> {
        let (action, argument) = match self {
            Self::Reauthorise { user } => ("reauthorise", user.to_string()),
            Self::Subscribe { who, channel } => {
                let argument = Argument {
                    channel: Some(channel.to_string()),
                    ..Argument::of(who)
                };
                ("subscribe", serde_json::to_string(&argument).ok()?)
            }
            Self::Unsubscribe {
                who,
                channel,
                reason,
            } => {
                let argument = Argument {
                    channel: Some(channel.to_string()),
                    reason: Some(reason.to_string()),
                    ..Argument::of(who)
                };
                ("unsubscribe", serde_json::to_string(&argument).ok()?)
            }
            Self::Disconnect { who, closing } => {
                let argument = Argument {
                    closing: Some(closing.clone()),
                    ..Argument::of(who)
                };
                ("disconnect", serde_json::to_string(&argument).ok()?)
            }
        };
        let ask = ask.map_or_else(|| NO_ASK.to_owned(), |ask| ask.to_string());
        (!argument.contains('\n') && !origin.contains('\n'))
            .then(|| format!("{CONTROL}\n{origin}\n{ask}\n{action}\n{argument}").into_bytes())
    }

    /// Parses a control message: its origin node, its ask and the control; `None` for
    /// anything else.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Decoded> {
        // Checked on the bytes first: every arrival is offered here before it is
        // decoded as an envelope, and a broadcast's payload need not be scanned twice.
        if !(bytes.starts_with(CONTROL.as_bytes()) && bytes.get(CONTROL.len()) == Some(&b'\n')) {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.splitn(5, '\n');
        lines.next()?;
        let origin = lines.next()?.to_owned();
        let ask = match lines.next()? {
            NO_ASK => None,
            number => Some(number.parse().ok()?),
        };
        let (action, argument) = (lines.next()?, lines.next()?);
        let control = if action == "reauthorise" {
            (!argument.is_empty()).then(|| Self::Reauthorise {
                user: argument.into(),
            })?
        } else {
            let parsed: Argument = serde_json::from_str(argument).ok()?;
            let who = parsed.who()?;
            match (action, parsed) {
                (
                    "subscribe",
                    Argument {
                        channel: Some(channel),
                        ..
                    },
                ) => Self::Subscribe {
                    who,
                    channel: channel.into(),
                },
                (
                    "unsubscribe",
                    Argument {
                        channel: Some(channel),
                        reason: Some(reason),
                        ..
                    },
                ) => Self::Unsubscribe {
                    who,
                    channel: channel.into(),
                    reason: reason.into(),
                },
                (
                    "disconnect",
                    Argument {
                        closing: Some(closing),
                        ..
                    },
                ) => Self::Disconnect { who, closing },
                _ => return None,
            }
        };
        Some(Decoded {
            origin,
            ask,
            control,
        })
    }
}

/// A control message as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub(crate) origin: String,
    pub(crate) ask: Option<u64>,
    pub(crate) control: Control,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(control: Control, ask: Option<u64>) {
        let bytes = control.encode("node-a", ask).expect("encodes");
        assert_eq!(
            Control::decode(&bytes),
            Some(Decoded {
                origin: "node-a".to_owned(),
                ask,
                control,
            })
        );
    }

    #[test]
    fn every_control_round_trips_with_and_without_an_ask() {
        let user = Who::User("bob".into());
        let connection = Who::Connection("n1-7".into());
        for ask in [None, Some(42)] {
            round_trip(Control::Reauthorise { user: "bob".into() }, ask);
            round_trip(
                Control::Subscribe {
                    who: user.clone(),
                    channel: "room.1".into(),
                },
                ask,
            );
            round_trip(
                Control::Unsubscribe {
                    who: connection.clone(),
                    channel: "room.1".into(),
                    reason: "kicked\nout".into(),
                },
                ask,
            );
            round_trip(
                Control::Disconnect {
                    who: user.clone(),
                    closing: Closing {
                        code: 4403,
                        reason: "banned".into(),
                        reconnect: false,
                    },
                },
                ask,
            );
        }
    }

    #[test]
    fn a_newline_in_a_header_is_refused_and_foreign_bytes_are_not_controls() {
        let shifted = Control::Reauthorise {
            user: "bob\nx".into(),
        };
        assert_eq!(shifted.encode("node-a", None), None);
        assert_eq!(Control::decode(b"sb1 control\na\n-\nexplode\nbob"), None);
        assert_eq!(
            Control::decode(b"sb1 control\na\nx\nreauthorise\nbob"),
            None
        );
        assert_eq!(
            Control::decode(b"sb1 control\na\n-\nsubscribe\n{\"user\":\"u\"}"),
            None,
            "a subscribe names its channel"
        );
        assert_eq!(
            Control::decode(b"sb1 control\na\n-\nsubscribe\n{\"user\":\"u\",\"connection\":\"c\",\"channel\":\"x\"}"),
            None,
            "a user or a connection, not both"
        );
        assert_eq!(Control::decode(b"sb1\na\n\n\n\n{}"), None);
    }
}
