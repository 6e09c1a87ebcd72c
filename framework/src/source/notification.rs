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
use crate::delivery::Except;
use crate::ids::ConnectionId;

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
        #[serde(flatten)]
        initiator: Initiator,
    },
    /// A signal raised inside a transaction.
    Signal {
        channel: String,
        event: String,
        #[serde(flatten)]
        initiator: Initiator,
    },
}

/// Who caused the change: `switchboard.initiator` and `switchboard.initiator_user` as
/// the transaction set them (empty or absent: nobody known).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Initiator {
    #[serde(default)]
    initiator: Option<String>,
    #[serde(default)]
    initiator_user: Option<String>,
}

impl Initiator {
    /// Who the signal leaves out: the connection, or with `whole_user` all of its user's.
    fn except(&self, whole_user: bool) -> Option<Except> {
        let known = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        match (known(&self.initiator_user), known(&self.initiator)) {
            (Some(user), _) if whole_user => Some(Except::User(user.into())),
            (_, Some(id)) => Some(Except::Connection(ConnectionId::from(id.as_str()))),
            (_, None) => None,
        }
    }
}

/// One signal a notification raises.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Signal {
    pub(crate) channel: String,
    pub(crate) event: String,
    pub(crate) except: Option<Except>,
}

impl Notification {
    pub(crate) fn parse(payload: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload)
    }

    /// The signals it raises.
    pub(crate) fn signals(&self, watches: &[Watch]) -> Vec<Signal> {
        match self {
            Self::Row {
                table,
                row,
                old,
                initiator,
            } => {
                let mut signals: Vec<Signal> = Vec::new();
                for watch in watches.iter().filter(|w| same_table(&w.table, table)) {
                    for row in std::iter::once(row).chain(old.as_ref()) {
                        let Some(channel) = channel_of(watch, row) else {
                            continue;
                        };
                        let signal = Signal {
                            channel,
                            event: watch.event.clone(),
                            except: initiator.except(watch.except_user),
                        };
                        if !signals.contains(&signal) {
                            signals.push(signal);
                        }
                    }
                }
                signals
            }
            Self::Signal {
                channel,
                event,
                initiator,
            } => vec![Signal {
                channel: channel.clone(),
                event: event.clone(),
                except: initiator.except(false),
            }],
        }
    }
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
        let signals = n.signals(&receipts());
        let named: Vec<&str> = signals.iter().map(|s| s.channel.as_str()).collect();
        assert_eq!(named, ["receipt.42", "receipt.41"]);
        let except = Some(Except::Connection(ConnectionId::from("n1-7")));
        assert!(
            signals
                .iter()
                .all(|s| s.event == "receipt-changed" && s.except == except)
        );
    }

    #[test]
    fn another_table_a_null_key_and_an_empty_initiator_signal_nothing_and_nobody() {
        let other = json!({"table": "public.orders", "op": "INSERT", "row": {"id": 1}});
        let n = Notification::parse(&other.to_string()).expect("parses");
        assert!(n.signals(&receipts()).is_empty());
        let null = json!({"table": "public.receipts", "op": "INSERT", "row": {"id": null}});
        let n = Notification::parse(&null.to_string()).expect("parses");
        assert!(n.signals(&receipts()).is_empty());
        let nobody = json!({"table": "public.receipts", "op": "INSERT", "row": {"id": 1},
            "initiator": "", "initiator_user": ""});
        let n = Notification::parse(&nobody.to_string()).expect("parses");
        assert_eq!(n.signals(&receipts())[0].except, None);
    }

    #[test]
    fn except_user_leaves_out_the_writer_s_user_when_the_transaction_named_one() {
        let watches = vec![Watch::new("receipts", "receipt.{id}", "changed").except_user()];
        let payload = json!({"table": "public.receipts", "row": {"id": 1},
            "initiator": "n1-7", "initiator_user": "alice"});
        let n = Notification::parse(&payload.to_string()).expect("parses");
        assert_eq!(
            n.signals(&watches)[0].except,
            Some(Except::User("alice".into()))
        );
        let anonymous = json!({"table": "public.receipts", "row": {"id": 1}, "initiator": "n1-7"});
        let n = Notification::parse(&anonymous.to_string()).expect("parses");
        let except = Some(Except::Connection(ConnectionId::from("n1-7")));
        assert_eq!(
            n.signals(&watches)[0].except,
            except,
            "no user known: the connection"
        );
    }

    #[test]
    fn a_signal_from_a_transaction_names_its_channel() {
        let payload = json!({"channel": "room.7", "event": "message", "initiator": null});
        let n = Notification::parse(&payload.to_string()).expect("parses");
        let signals = n.signals(&[]);
        let named = (signals[0].channel.as_str(), signals[0].event.as_str());
        assert_eq!(named, ("room.7", "message"));
        assert!(
            Notification::parse("{\"hello\": 1}").is_err(),
            "neither shape"
        );
        assert!(Notification::parse("not json").is_err());
    }
}
