//! A change notification, as the trigger function (or `signal_after_commit`) sends it
//! with `pg_notify('switchboard', payload)`:
//!
//! ```json
//! {"table": "public.receipts", "op": "UPDATE", "row": {"id": 42}, "old": {"id": 41}, "initiator": "n1-17"}
//! {"channel": "receipt.42", "event": "receipt-changed", "initiator": null}
//! ```
//!
//! The first names a changed row of a watched table (only the columns the watches'
//! channel templates need; `old` is the row before an UPDATE); the second a signal an
//! application asked for inside its transaction.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::Watch;

/// The PostgreSQL notification channel the source LISTENs on.
pub(crate) const NOTIFY_CHANNEL: &str = "switchboard";

/// What one notification asks for.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Notification {
    /// A row of a watched table changed.
    Row {
        table: String,
        row: Map<String, Value>,
        #[serde(default)]
        old: Option<Map<String, Value>>,
        #[serde(default)]
        initiator: Option<String>,
    },
    /// A signal raised inside a transaction.
    Signal {
        channel: String,
        event: String,
        #[serde(default)]
        initiator: Option<String>,
    },
}

impl Notification {
    pub(crate) fn parse(payload: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload)
    }

    /// The signals it raises, as (channel, event), and the connection that caused it
    /// (an empty setting counts as none).
    pub(crate) fn signals(&self, watches: &[Watch]) -> (Vec<(String, String)>, Option<String>) {
        match self {
            Self::Row {
                table,
                row,
                old,
                initiator,
            } => {
                let mut signals = Vec::new();
                for watch in watches.iter().filter(|w| same_table(&w.table, table)) {
                    for row in std::iter::once(row).chain(old.as_ref()) {
                        if let Some(channel) = channel_of(watch, row) {
                            let signal = (channel, watch.event.clone());
                            if !signals.contains(&signal) {
                                signals.push(signal);
                            }
                        }
                    }
                }
                (signals, non_empty(initiator))
            }
            Self::Signal {
                channel,
                event,
                initiator,
            } => (vec![(channel.clone(), event.clone())], non_empty(initiator)),
        }
    }
}

fn non_empty(initiator: &Option<String>) -> Option<String> {
    initiator.clone().filter(|i| !i.is_empty())
}

/// `receipts` names `public.receipts` (or the table of that name in any schema);
/// `shop.receipts` names only that one.
fn same_table(watched: &str, notified: &str) -> bool {
    if watched.contains('.') {
        watched == notified
    } else {
        notified.rsplit('.').next() == Some(watched)
    }
}

/// The watch's channel for `row`: every `{column}` replaced by the row's value; `None`
/// when a column is missing or null, or the name is not a valid channel name.
fn channel_of(watch: &Watch, row: &Map<String, Value>) -> Option<String> {
    let mut channel = watch.channel.clone();
    for column in watch.columns() {
        let value = match row.get(column)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        channel = channel.replace(&format!("{{{column}}}"), &value);
    }
    switchboard_pattern::validate_channel_name(&channel).ok()?;
    Some(channel)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn receipts() -> Vec<Watch> {
        vec![Watch::new("receipts", "receipt.{id}", "receipt-changed")]
    }

    #[test]
    fn a_changed_row_signals_its_channel_and_the_old_one_when_the_key_moved() {
        let payload = json!({"table": "public.receipts", "op": "UPDATE",
            "row": {"id": 42}, "old": {"id": 41}, "initiator": "n1-7"});
        let n = Notification::parse(&payload.to_string()).expect("parses");
        let (signals, initiator) = n.signals(&receipts());
        assert_eq!(
            signals,
            [
                ("receipt.42".to_owned(), "receipt-changed".to_owned()),
                ("receipt.41".to_owned(), "receipt-changed".to_owned())
            ]
        );
        assert_eq!(initiator.as_deref(), Some("n1-7"));
    }

    #[test]
    fn another_table_a_null_key_and_an_empty_initiator_signal_nothing_and_nobody() {
        let other = json!({"table": "public.orders", "op": "INSERT", "row": {"id": 1}});
        let n = Notification::parse(&other.to_string()).expect("parses");
        assert!(n.signals(&receipts()).0.is_empty());
        let null = json!({"table": "public.receipts", "op": "INSERT", "row": {"id": null}, "initiator": ""});
        let (signals, initiator) = Notification::parse(&null.to_string())
            .expect("parses")
            .signals(&receipts());
        assert!(signals.is_empty());
        assert_eq!(initiator, None);
    }

    #[test]
    fn a_signal_from_a_transaction_names_its_channel() {
        let payload = json!({"channel": "room.7", "event": "message", "initiator": null});
        let n = Notification::parse(&payload.to_string()).expect("parses");
        assert_eq!(
            n.signals(&[]).0,
            [("room.7".to_owned(), "message".to_owned())]
        );
        assert!(
            Notification::parse("{\"hello\": 1}").is_err(),
            "neither shape"
        );
        assert!(Notification::parse("not json").is_err());
    }
}
