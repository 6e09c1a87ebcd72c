//! The PostgreSQL source: one LISTEN connection per node; every committed change to a
//! watched table (and every `signal_after_commit`) signals this node's subscribers.
//!
//! NOTIFY is transactional, so a change is signalled only once its transaction commits,
//! and a rolled-back one never is. The connection reconnects with backoff; since
//! changes may have been missed while it was down, the watched channels' subscribers
//! here are then told `resync` (reason `source_lost`) and re-fetch.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use tracing::{info, warn};

use super::{NOTIFY_CHANNEL, Notification};
use crate::config::{ConfigError, Settings, Watch};
use crate::delivery::Target;
use crate::ids::NodeId;
use crate::protocol::{self, events};
use crate::send::{Raised, SendPath};
use crate::transport::Backoff;

/// Longest wait for the start-up check (connect, look up the watched tables).
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The trigger function, and one trigger per watched table that runs it with the
/// columns its channel templates need (`psql -f` it, or let `install_triggers` do it).
///
/// ```
/// use switchboard::config::Watch;
/// let sql = switchboard::postgres::trigger_sql(&[Watch::new("receipts", "receipt.{id}", "receipt-changed")]);
/// assert!(sql.contains("CREATE TRIGGER switchboard_changes AFTER INSERT OR UPDATE OR DELETE ON \"receipts\""));
/// ```
pub fn trigger_sql(watches: &[Watch]) -> String {
    let mut sql = format!(
        r"-- Switchboard: signal the watched channels after every committed change.
CREATE OR REPLACE FUNCTION switchboard_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed jsonb := CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END;
  previous jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
  kept jsonb := '{{}}'::jsonb;
  kept_old jsonb := '{{}}'::jsonb;
  col text;
BEGIN
  FOREACH col IN ARRAY TG_ARGV LOOP
    kept := kept || jsonb_build_object(col, changed -> col);
    IF previous IS NOT NULL THEN
      kept_old := kept_old || jsonb_build_object(col, previous -> col);
    END IF;
  END LOOP;
  PERFORM pg_notify('{NOTIFY_CHANNEL}', jsonb_build_object(
    'table', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME,
    'op', TG_OP,
    'row', kept,
    'old', CASE WHEN previous IS NULL OR kept_old = kept THEN NULL ELSE kept_old END,
    'initiator', current_setting('switchboard.initiator', true),
    'initiator_user', current_setting('switchboard.initiator_user', true)
  )::text);
  RETURN NULL;
END
$$;
"
    );
    let mut tables: Vec<(&str, Vec<&str>)> = Vec::new();
    for watch in watches {
        let columns = match tables.iter_mut().find(|(t, _)| *t == watch.table) {
            Some((_, columns)) => columns,
            None => {
                tables.push((&watch.table, Vec::new()));
                &mut tables.last_mut().expect("just pushed").1
            }
        };
        for column in watch.columns() {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
    }
    for (table, columns) in tables {
        let table = quoted_table(table);
        let args: Vec<String> = columns.iter().map(|c| format!("'{c}'")).collect();
        sql.push_str(&format!(
            "DROP TRIGGER IF EXISTS switchboard_changes ON {table};\n\
             CREATE TRIGGER switchboard_changes AFTER INSERT OR UPDATE OR DELETE ON {table}\n  \
             FOR EACH ROW EXECUTE FUNCTION switchboard_notify({});\n",
            args.join(", ")
        ));
    }
    sql
}

/// `schema.table` or `table`, each part double-quoted (`[[watch]]` names are checked
/// to be plain identifiers).
fn quoted_table(table: &str) -> String {
    table
        .split('.')
        .map(|part| format!("\"{part}\""))
        .collect::<Vec<_>>()
        .join(".")
}

/// Marks the connection that caused this transaction's writes, so their signals leave
/// it out: run it inside the transaction, before or after the writes.
///
/// ```no_run
/// # async fn run(mut db: tokio_postgres::Client, initiator: switchboard::Initiator) -> Result<(), tokio_postgres::Error> {
/// let tx = db.transaction().await?;
/// switchboard::postgres::set_initiator(&tx, &initiator).await?;
/// tx.execute("UPDATE receipts SET total = 12 WHERE id = 42", &[]).await?;
/// tx.commit().await?; // every page on receipt.42 but the writer's re-fetches
/// # Ok(()) }
/// ```
pub async fn set_initiator(
    client: &impl tokio_postgres::GenericClient,
    initiator: &crate::Initiator,
) -> Result<(), tokio_postgres::Error> {
    let id = initiator.connection_id().unwrap_or("");
    let user = initiator.user_id().unwrap_or("");
    client
        .execute(
            "SELECT set_config('switchboard.initiator', $1, true), \
                    set_config('switchboard.initiator_user', $2, true)",
            &[&id, &user],
        )
        .await
        .map(drop)
}

/// Signals `event` on `channel` when, and only if, the transaction commits (a
/// rolled-back one signals nothing); every node's source delivers it to its own
/// subscribers, leaving out the initiator set with [`set_initiator`].
///
/// ```no_run
/// # async fn run(mut db: tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
/// let tx = db.transaction().await?;
/// tx.execute("INSERT INTO messages (room, body) VALUES ('7', 'hi')", &[]).await?;
/// switchboard::postgres::signal_after_commit(&tx, "room.7", "message").await?;
/// tx.commit().await?;
/// # Ok(()) }
/// ```
pub async fn signal_after_commit(
    client: &impl tokio_postgres::GenericClient,
    channel: &str,
    event: &str,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "SELECT pg_notify($1, json_build_object('channel', $2::text, 'event', $3::text, \
             'initiator', current_setting('switchboard.initiator', true))::text)",
            &[&NOTIFY_CHANNEL, &channel, &event],
        )
        .await
        .map(drop)
}

/// Checks the watched tables and columns (and installs the triggers when asked), then
/// starts the source on a thread of its own. A database that cannot be reached now is
/// logged and retried; a table or column that does not exist stops start-up.
pub(crate) fn start(
    settings: &Settings,
    path: Arc<SendPath>,
    node: NodeId,
) -> Result<(), ConfigError> {
    if settings.postgres.url.is_empty() {
        return Ok(());
    }
    let url = settings.postgres.url.expose().to_owned();
    let watches = settings.watch.clone();
    let install = settings.postgres.install_triggers;
    // On threads of their own, each with its runtime: start-up may be called from
    // inside another runtime, which must neither block on nor drop one.
    let checked = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = runtime().map_err(Checked::Unreachable)?;
                runtime.block_on(async {
                    tokio::time::timeout(CHECK_TIMEOUT, check(&url, &watches, install))
                        .await
                        .unwrap_or_else(|_| Err(Checked::Unreachable("timed out".into())))
                })
            })
            .join()
    });
    match checked {
        Ok(Ok(())) => {}
        Ok(Err(Checked::Refused(error))) => return Err(error),
        Ok(Err(Checked::Unreachable(why))) => {
            warn!(%why, "the PostgreSQL source cannot reach the database; it keeps trying");
        }
        Err(_) => {
            return Err(ConfigError::setting(
                "postgres.url",
                "the start-up check panicked",
            ));
        }
    }
    let path = Arc::downgrade(&path);
    std::thread::Builder::new()
        .name("switchboard-postgres".into())
        .spawn(move || match runtime() {
            Ok(runtime) => runtime.block_on(run(url, watches, path, node)),
            Err(why) => tracing::error!(%why, "the PostgreSQL source cannot start"),
        })
        .map_err(|e| {
            ConfigError::setting(
                "postgres.url",
                format!("cannot start the source's thread: {e}"),
            )
        })?;
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the source's runtime: {e}"))
}

enum Checked {
    /// The configuration names something the database does not have.
    Refused(ConfigError),
    /// The database cannot be asked now.
    Unreachable(String),
}

/// Every watched table and the columns its channel names exist; installs the triggers
/// when asked.
async fn check(url: &str, watches: &[Watch], install: bool) -> Result<(), Checked> {
    let unreachable = |e: tokio_postgres::Error| Checked::Unreachable(e.to_string());
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(unreachable)?;
    let driver = tokio::spawn(connection);
    for (i, watch) in watches.iter().enumerate() {
        let (schema, table) = match watch.table.split_once('.') {
            Some((schema, table)) => (Some(schema), table),
            None => (None, watch.table.as_str()),
        };
        let rows = client
            .query(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_name = $1 AND ($2::text IS NULL OR table_schema = $2)",
                &[&table, &schema],
            )
            .await
            .map_err(unreachable)?;
        let columns: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
        if columns.is_empty() {
            return Err(Checked::Refused(ConfigError::setting(
                format!("watch[{i}].table"),
                format!("table {:?} does not exist in the database", watch.table),
            )));
        }
        if let Some(missing) = watch
            .columns()
            .into_iter()
            .find(|c| !columns.iter().any(|k| k == c))
        {
            return Err(Checked::Refused(ConfigError::setting(
                format!("watch[{i}].channel"),
                format!("table {:?} has no column {missing:?}", watch.table),
            )));
        }
    }
    if install && !watches.is_empty() {
        client
            .batch_execute(&trigger_sql(watches))
            .await
            .map_err(unreachable)?;
        info!(tables = watches.len(), "PostgreSQL triggers installed");
    }
    drop(client);
    let _ = driver.await;
    Ok(())
}

/// LISTENs, signals, and reconnects with backoff for as long as the node lives.
async fn run(url: String, watches: Vec<Watch>, path: Weak<SendPath>, node: NodeId) {
    let mut backoff = Backoff::new(&node);
    let mut lost = false;
    loop {
        match listen(&url).await {
            Ok((client, mut notifications)) => {
                backoff.reset();
                info!("PostgreSQL source listening");
                if lost && let Some(path) = path.upgrade() {
                    resync(&path, &watches);
                }
                while let Some(payload) = notifications.recv().await {
                    let Some(path) = path.upgrade() else { return }; // the node is gone
                    signal(&path, &watches, &payload);
                }
                drop(client);
                warn!("PostgreSQL source lost its connection; reconnecting");
            }
            Err(e) => warn!(error = %e, "PostgreSQL source cannot connect; retrying"),
        }
        if path.strong_count() == 0 {
            return; // the node is gone: nobody to signal
        }
        lost = true;
        tokio::time::sleep(backoff.next()).await;
    }
}

/// Connects and LISTENs; notifications arrive on the receiver, which ends with the
/// connection.
async fn listen(
    url: &str,
) -> Result<(Client, mpsc::UnboundedReceiver<String>), tokio_postgres::Error> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    let (sender, notifications) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if sender.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => return warn!(error = %e, "PostgreSQL source connection failed"),
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
        .await?;
    Ok((client, notifications))
}

/// Signals what one notification names, to this node's subscribers only.
fn signal(path: &Arc<SendPath>, watches: &[Watch], payload: &str) {
    let metrics = path.delivery.metrics();
    let notification = match Notification::parse(payload) {
        Ok(notification) => notification,
        Err(e) => {
            metrics.source_malformed();
            return warn!(error = %e, payload, "PostgreSQL notification not understood: skipped");
        }
    };
    metrics.source_notification();
    for signal in notification.signals(watches) {
        let mut raised = Raised::new(&signal.channel, &signal.event, signal.except);
        raised.local = true;
        path.signals.raise(path, raised);
    }
}

/// Tells the local subscribers of every watched channel that signals may have been
/// missed while the source was away.
fn resync(path: &SendPath, watches: &[Watch]) {
    let patterns: Vec<_> = watches
        .iter()
        .filter_map(|w| switchboard_pattern::Pattern::parse(&w.channel).ok())
        .collect();
    let data = json!({ "reason": "source_lost" });
    for channel in path.delivery.index().channel_names() {
        if !patterns.iter().any(|p| p.matches(&channel).is_some()) {
            continue;
        }
        if let Ok(frame) = protocol::encode(events::RESYNC, Some(&channel), &data) {
            path.delivery.deliver(&Target::channel(&channel), &frame);
        }
    }
}
