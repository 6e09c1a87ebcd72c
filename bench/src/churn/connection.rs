//! One churn client: a task that holds a WebSocket, reads everything the server sends,
//! and does what the controller tells it.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

use super::Counters;

/// What the controller asks a client to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// `subscribe-channel-request` for the channel.
    Subscribe(String),
    /// `unsubscribe-channel-request` for the channel.
    Unsubscribe(String),
    /// A `route` event: the server broadcasts `message` on the channel (publishers).
    Publish(String),
    /// A close frame, then wait for the server's.
    Close,
    /// Gone without a close frame: the TCP connection is reset (SO_LINGER 0).
    Kill,
}

/// The controller's handle on one client task; dropping it closes the client.
#[derive(Debug)]
pub struct Handle {
    commands: mpsc::UnboundedSender<Command>,
}

impl Handle {
    /// Queues a command; `false` when the client has ended (the server closed it).
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }

    /// Whether the client task has ended.
    pub fn is_gone(&self) -> bool {
        self.commands.is_closed()
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Starts a client that connects to `url` with `token` and then obeys its handle.
pub fn spawn(url: String, token: String, counters: &'static Counters) -> Handle {
    let (commands, inbox) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let address = format!("{url}?token={token}");
        match connect_async(address.as_str()).await {
            Ok((socket, _)) => {
                Counters::bump(&counters.connected);
                serve(socket, inbox, counters).await;
            }
            Err(_) => Counters::bump(&counters.connect_failed),
        }
    });
    Handle { commands }
}

async fn serve(
    mut socket: Socket,
    mut inbox: mpsc::UnboundedReceiver<Command>,
    counters: &'static Counters,
) {
    loop {
        tokio::select! {
            command = inbox.recv() => {
                let packet = match command {
                    Some(Command::Subscribe(channel)) => subscribe("subscribe-channel-request", &channel),
                    Some(Command::Unsubscribe(channel)) => subscribe("unsubscribe-channel-request", &channel),
                    Some(Command::Publish(channel)) => format!(
                        r#"{{"event":"route","data":{{"to":"{channel}","pad":"0123456789abcdef"}}}}"#
                    ),
                    Some(Command::Close) | None => {
                        let _ = socket.close(None).await;
                        // Read until the server's close frame or the end.
                        while let Some(Ok(_)) = socket.next().await {}
                        return;
                    }
                    Some(Command::Kill) => {
                        if let MaybeTlsStream::Plain(tcp) = socket.get_ref() {
                            let _ = tcp.set_zero_linger();
                        }
                        return; // dropped: RST, no close frame
                    }
                };
                if socket.send(Message::text(packet)).await.is_err() {
                    return;
                }
            }
            frame = socket.next() => match frame {
                Some(Ok(Message::Text(_))) => Counters::bump(&counters.received),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    Counters::bump(&counters.closed_by_server);
                    return;
                }
            },
        }
    }
}

fn subscribe(event: &str, channel: &str) -> String {
    format!(r#"{{"event":"{event}","data":{{"channel":"{channel}"}}}}"#)
}
