//! Server-side control from code: subscribe connections to a channel, take them out,
//! close them; a user's connections on every node, or one connection wherever it is.
//! Each call resolves once a node has applied it, or says no node had them.

use std::sync::Arc;

use super::SocketServer;
use crate::ids::ConnectionId;
use crate::transport::{Answer, Closing, Control, Topic, Who};

/// Which connections a server-side instruction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sockets<'a> {
    /// Every connection of this user, on every node.
    User(&'a str),
    /// One connection, on whichever node holds it.
    Connection(&'a str),
}

/// How [`SocketServer::disconnect`] closes connections: the close code and reason, and
/// whether the client should reconnect by itself (sent first, in a `disconnect` packet).
///
/// ```
/// use switchboard::Disconnect;
/// let ban = Disconnect::new(4403, "banned").reconnect(false);
/// assert_eq!(ban.code(), 4403);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    code: u16,
    reason: String,
    reconnect: bool,
}

impl Disconnect {
    /// Close with `code` (1000, 1008, or an application's own, 3000 to 4999) and
    /// `reason` (at most 123 bytes: it goes in the close frame too). The client is told
    /// not to reconnect unless [`reconnect`](Self::reconnect) says otherwise.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
            reconnect: false,
        }
    }

    /// Whether the client should reconnect by itself (e.g. after the server moved it
    /// elsewhere); `false` by default (a ban, a logout).
    pub fn reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// The close code.
    pub fn code(&self) -> u16 {
        self.code
    }
}

/// Why a server-side instruction was not applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No node has an open connection with this id.
    #[error("no open connection `{0}`")]
    UnknownConnection(String),
    /// No node has an open connection of this user.
    #[error("user `{0}` has no open connection")]
    UnknownUser(String),
    /// The channel name is invalid, or no channel listener's pattern matches it.
    #[error("channel `{channel}`: {reason}")]
    UnknownChannel {
        /// The channel named.
        channel: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A close code an application may not send.
    #[error("close code {0}: use 1000, 1008 or 3000-4999")]
    BadCloseCode(u16),
    /// A reason too long for a close frame (123 bytes) or the wire (a control character).
    #[error("reason: {0}")]
    BadReason(&'static str),
    /// The node holding the connection did not answer in time.
    #[error("the node holding `{0}` did not answer")]
    NoAnswer(String),
}

/// Longest close reason a close frame holds (125 bytes, less the code's two).
const MAX_CLOSE_REASON: usize = 123;

impl SocketServer {
    /// Subscribes the connections to `channel`, as if they had asked, but without
    /// running its authorisation (the server decided): each is told with `subscribed`
    /// (with the stream's position when the channel is a stream), and the listener's
    /// `on_join` runs. Connections already in the channel are left as they are.
    ///
    /// ```no_run
    /// # async fn run(server: switchboard::SocketServer) -> Result<(), switchboard::ControlError> {
    /// use switchboard::Sockets;
    /// // alice was added to project 7: her open tabs join its channel at once.
    /// server.subscribe(Sockets::User("alice"), "project.7").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe(&self, sockets: Sockets<'_>, channel: &str) -> Result<(), ControlError> {
        self.check_channel(channel)?;
        let who = who(sockets);
        self.command(
            Control::Subscribe {
                who,
                channel: channel.into(),
            },
            sockets,
        )
        .await
    }

    /// Takes the connections out of `channel`, telling each with `unsubscribed`
    /// (`{"reason": reason}`); the listener's `on_leave` runs with
    /// [`LeaveReason::Removed`](crate::listener::LeaveReason::Removed). Connections not
    /// in the channel are left as they are.
    pub async fn unsubscribe(
        &self,
        sockets: Sockets<'_>,
        channel: &str,
        reason: &str,
    ) -> Result<(), ControlError> {
        self.check_channel(channel)?;
        if reason.contains(char::is_control) || reason.len() > 256 {
            return Err(ControlError::BadReason(
                "at most 256 bytes, without control characters",
            ));
        }
        let control = Control::Unsubscribe {
            who: who(sockets),
            channel: channel.into(),
            reason: reason.into(),
        };
        self.command(control, sockets).await
    }

    /// Closes the connections: each gets a `disconnect` packet (`{code, reason,
    /// reconnect}`), then a close frame with the code and reason.
    ///
    /// ```no_run
    /// # async fn run(server: switchboard::SocketServer) -> Result<(), switchboard::ControlError> {
    /// use switchboard::{Disconnect, Sockets};
    /// // bob was banned: every device of his, on every node, is closed for good.
    /// server
    ///     .disconnect(Sockets::User("bob"), &Disconnect::new(4403, "banned"))
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn disconnect(
        &self,
        sockets: Sockets<'_>,
        disconnect: &Disconnect,
    ) -> Result<(), ControlError> {
        let code = disconnect.code;
        if !(code == 1000 || code == 1008 || (3000..=4999).contains(&code)) {
            return Err(ControlError::BadCloseCode(code));
        }
        if disconnect.reason.len() > MAX_CLOSE_REASON
            || disconnect.reason.contains(char::is_control)
        {
            return Err(ControlError::BadReason(
                "at most 123 bytes, without control characters",
            ));
        }
        let control = Control::Disconnect {
            who: who(sockets),
            closing: Closing {
                code,
                reason: disconnect.reason.clone(),
                reconnect: disconnect.reconnect,
            },
        };
        self.command(control, sockets).await
    }

    fn check_channel(&self, channel: &str) -> Result<(), ControlError> {
        let unknown = |reason: String| ControlError::UnknownChannel {
            channel: channel.to_owned(),
            reason,
        };
        switchboard_pattern::validate_channel_name(channel).map_err(|e| unknown(e.to_string()))?;
        if !(self.path.listens.0)(channel) {
            return Err(unknown("no channel listener matches it".to_owned()));
        }
        Ok(())
    }

    /// Applies `control` to this node's sessions and hands it to the other nodes'. A
    /// user's: done when one was here, else the first node that had one answers. One
    /// connection's: here, or asked of the node that holds it.
    async fn command(&self, control: Control, sockets: Sockets<'_>) -> Result<(), ControlError> {
        let unknown = || match sockets {
            Sockets::User(user) => ControlError::UnknownUser(user.to_owned()),
            Sockets::Connection(id) => ControlError::UnknownConnection(id.to_owned()),
        };
        if sockets_hold_a_control_character(sockets) {
            return Err(unknown()); // no id has one, and it would corrupt a header
        }
        let path = &self.path;
        let topic = match sockets {
            Sockets::User(user) => Topic::User(user.into()),
            Sockets::Connection(id) => {
                let node = ConnectionId::from(id).node().to_owned();
                let here = node.is_empty() || node == path.node.as_str();
                if here || !path.backplane.spans_nodes() {
                    let applied = path.controls.apply(&control, path.delivery.index());
                    return if applied > 0 { Ok(()) } else { Err(unknown()) };
                }
                Topic::Node(Arc::from(node))
            }
        };
        if path.controls.apply(&control, path.delivery.index()) > 0 {
            path.backplane.control(topic, control); // the user's other nodes
            return Ok(());
        }
        match path.backplane.ask_control(topic, control).await {
            Answer::Receipt(Ok(())) => Ok(()),
            Answer::Receipt(Err(_)) | Answer::NoNode => Err(unknown()),
            Answer::Unanswered => Err(ControlError::NoAnswer(match sockets {
                Sockets::User(id) | Sockets::Connection(id) => id.to_owned(),
            })),
        }
    }
}

fn who(sockets: Sockets<'_>) -> Who {
    match sockets {
        Sockets::User(user) => Who::User(user.into()),
        Sockets::Connection(id) => Who::Connection(id.into()),
    }
}

fn sockets_hold_a_control_character(sockets: Sockets<'_>) -> bool {
    match sockets {
        Sockets::User(id) | Sockets::Connection(id) => {
            id.is_empty() || id.contains(char::is_control)
        }
    }
}
