//! Where rooms' messages live: in memory (the default), or in PostgreSQL when the demo
//! is given a database (`database_url` in `Demo.toml`, or `DATABASE_URL`).
//!
//! In memory, a post signals `message` on `room.{id}` from the application. In
//! PostgreSQL, the demo signals nothing itself: the framework's PostgreSQL source
//! watches `room_messages` and signals the room for every committed insert, whoever
//! makes it (this server, another node, `psql`). Either way the poster's own tab is left
//! out (it shows its post from the answer).

use switchboard::Initiator;
use switchboard::postgres::tokio_postgres::{self, NoTls};

use crate::rooms::{
    MESSAGES_PER_ROOM, PostError, RoomMessage, RoomSummary, Rooms, checked, render, render_summary,
};

/// The table the PostgreSQL store keeps messages in (and the source watches).
pub const TABLE: &str = "room_messages";

/// Creates [`TABLE`] if it is missing.
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS room_messages (
    seq bigserial PRIMARY KEY,
    room text NOT NULL,
    author text NOT NULL,
    body text NOT NULL,
    posted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS room_messages_by_room ON room_messages (room, seq);";

/// Why a post or a read failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The post itself is not acceptable.
    #[error(transparent)]
    Refused(#[from] PostError),
    /// The database did not answer.
    #[error("the database is unavailable: {0}")]
    Database(#[from] tokio_postgres::Error),
}

/// The rooms' store.
#[derive(Debug)]
pub enum RoomStore {
    /// Kept in this process; gone with it.
    Memory(Rooms),
    /// Kept in PostgreSQL at this URL.
    Postgres(String),
}

impl RoomStore {
    /// Stores a message by `from` and makes every page showing the room re-fetch it,
    /// except the poster's (`initiator`).
    pub async fn post(
        &self,
        room: &str,
        from: &str,
        message: &str,
        initiator: &Initiator,
    ) -> Result<RoomMessage, StoreError> {
        match self {
            Self::Memory(rooms) => {
                let posted = rooms.post(room, from, message)?;
                signal(room, &posted, initiator);
                Ok(posted)
            }
            Self::Postgres(url) => {
                let (from, message) = checked(room, from, message)?;
                let mut db = connect(url).await?;
                let tx = db.transaction().await?;
                // The source's trigger reads it: the poster's tab gets no signal.
                switchboard::postgres::set_initiator(&tx, initiator).await?;
                let row = tx
                    .query_one(
                        "INSERT INTO room_messages (room, author, body) VALUES ($1, $2, $3) \
                         RETURNING seq",
                        &[&room, &from, &message],
                    )
                    .await?;
                tx.commit().await?;
                let seq: i64 = row.get(0);
                Ok(RoomMessage {
                    seq: u64::try_from(seq).unwrap_or_default(),
                    from: from.to_owned(),
                    message: message.to_owned(),
                })
            }
        }
    }

    /// The room's recent messages as `<li>` items.
    pub async fn render(&self, room: &str) -> Result<String, StoreError> {
        match self {
            Self::Memory(rooms) => Ok(rooms.render(room)),
            Self::Postgres(url) => {
                let db = connect(url).await?;
                let limit = i64::try_from(MESSAGES_PER_ROOM).unwrap_or(100);
                let rows = db
                    .query(
                        "SELECT seq, author, body FROM room_messages WHERE room = $1 \
                         ORDER BY seq DESC LIMIT $2",
                        &[&room, &limit],
                    )
                    .await?;
                let mut messages: Vec<RoomMessage> = rows
                    .iter()
                    .map(|row| RoomMessage {
                        seq: u64::try_from(row.get::<_, i64>(0)).unwrap_or_default(),
                        from: row.get(1),
                        message: row.get(2),
                    })
                    .collect();
                messages.reverse();
                Ok(render(&messages))
            }
        }
    }

    /// The room's summary card: how many messages it has had, and the latest.
    pub async fn render_summary(&self, room: &str) -> Result<String, StoreError> {
        let summary = match self {
            Self::Memory(rooms) => rooms.summary(room),
            Self::Postgres(url) => {
                let db = connect(url).await?;
                let count: i64 = db
                    .query_one(
                        "SELECT count(*) FROM room_messages WHERE room = $1",
                        &[&room],
                    )
                    .await?
                    .get(0);
                let last = db
                    .query_opt(
                        "SELECT seq, author, body FROM room_messages WHERE room = $1 \
                         ORDER BY seq DESC LIMIT 1",
                        &[&room],
                    )
                    .await?
                    .map(|row| RoomMessage {
                        seq: u64::try_from(row.get::<_, i64>(0)).unwrap_or_default(),
                        from: row.get(1),
                        message: row.get(2),
                    });
                RoomSummary {
                    count: u64::try_from(count).unwrap_or_default(),
                    last,
                }
            }
        };
        Ok(render_summary(room, &summary))
    }
}

/// A connection of its own for each request: enough for a demo (an application would
/// keep a pool), and a database restart costs nothing but the requests it cut.
async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    actix_web::rt::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "room store connection failed");
        }
    });
    Ok(client)
}

/// In memory: signals `message` on the room, with what was posted, to every page but
/// the poster's.
fn signal(room: &str, posted: &RoomMessage, initiator: &Initiator) {
    let channel = format!("room.{room}");
    let signalled = switchboard::sockets().and_then(|server| match initiator.connection_id() {
        Some(poster) => server.broadcast_except(&channel, poster, "message", posted),
        None => server.broadcast(&channel, "message", posted),
    });
    if let Err(e) = signalled {
        // Stored all the same: pages see it on their next refresh.
        tracing::warn!(error = %e, "could not signal {channel}");
    }
}

/// Creates the table, on a runtime of its own (start-up runs before the server's):
/// the PostgreSQL source's start-up check wants it to exist.
pub fn prepare(url: &str) -> Result<(), String> {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .map_err(|e| format!("cannot connect to the database: {e}"))?;
            let driver = tokio::spawn(connection);
            client
                .batch_execute(SCHEMA)
                .await
                .map_err(|e| format!("cannot create {TABLE}: {e}"))?;
            drop(client);
            let _ = driver.await;
            Ok(())
        })
    })
    .join()
    .map_err(|_| "the database set-up panicked".to_owned())?
}
