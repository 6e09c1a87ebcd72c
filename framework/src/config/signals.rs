//! `[signals]`, `[postgres]` and `[[watch]]`: data-change signals, from application code
//! and straight from PostgreSQL.

use serde::{Deserialize, Serialize};

use super::Secret;

/// `[signals]`: how signals ("this changed, re-fetch") are sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SignalSettings {
    /// Signals of one event on one channel within this many milliseconds go out as one,
    /// after the window (a burst of writes costs each page one re-fetch); 0 sends each
    /// at once.
    pub coalesce_ms: u64,
}

impl SignalSettings {
    /// The coalescing window.
    pub fn coalesce(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.coalesce_ms)
    }
}

impl Default for SignalSettings {
    fn default() -> Self {
        Self { coalesce_ms: 50 }
    }
}

/// `[postgres]`: the PostgreSQL source (cargo feature `postgres`). Every committed
/// change to a watched table signals the channel named from its row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PostgresSettings {
    /// `postgres://user:password@host:port/database`; empty turns the source off. Set it
    /// with `SWITCHBOARD__POSTGRES__URL` rather than in the file.
    pub url: Secret,
    /// Create (or replace) the trigger function and each watched table's trigger at
    /// start; otherwise install them yourself (`switchboard::postgres::trigger_sql`).
    pub install_triggers: bool,
}

/// One `[[watch]]` entry: a table whose committed INSERT, UPDATE and DELETE signal a
/// channel.
///
/// ```toml
/// [[watch]]
/// table = "receipts"            # or "schema.table"
/// channel = "receipt.{id}"      # {column} is the changed row's value
/// event = "receipt-changed"
/// except_user = false           # true: leave out all of the writer's connections
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Watch {
    /// The table, optionally with its schema.
    pub table: String,
    /// The channel each change signals; `{column}` is replaced by the row's value.
    pub channel: String,
    /// The event subscribers receive.
    pub event: String,
    /// Leave out every connection of the user whose connection caused the change (all
    /// their tabs and devices), not only that connection.
    #[serde(default)]
    pub except_user: bool,
}

impl Watch {
    /// An entry signalling `event` on `channel` (with `{column}` placeholders) for every
    /// change to `table`.
    pub fn new(
        table: impl Into<String>,
        channel: impl Into<String>,
        event: impl Into<String>,
    ) -> Self {
        Self {
            table: table.into(),
            channel: channel.into(),
            event: event.into(),
            except_user: false,
        }
    }

    /// The same entry, leaving out all of the writer's connections.
    pub fn except_user(mut self) -> Self {
        self.except_user = true;
        self
    }

    /// The columns the channel template names, in order: `receipt.{id}` → `["id"]`.
    pub fn columns(&self) -> Vec<&str> {
        let mut columns = Vec::new();
        let mut rest = self.channel.as_str();
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            columns.push(&rest[start + 1..start + end]);
            rest = &rest[start + end + 1..];
        }
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_template_names_its_columns() {
        let watch = Watch::new("t", "order.{shop_id}.{id}", "changed");
        assert_eq!(watch.columns(), ["shop_id", "id"]);
        assert!(Watch::new("t", "everything", "e").columns().is_empty());
    }
}
