//! Rooms' recent messages, kept in memory and bounded, rendered as HTML fragments for
//! the page's declarative elements (`data-sb-refresh`, `data-sb-action`).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use switchboard::typescript::TS;

/// Messages kept per room; older ones fall off.
pub const MESSAGES_PER_ROOM: usize = 100;
/// Rooms kept at once; posting to a new room beyond this is refused.
pub const MAX_ROOMS: usize = 1000;
/// Longest message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Longest author name, in characters.
pub const MAX_AUTHOR_CHARS: usize = 64;

/// One posted message; in memory, also what the room's subscribers receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(crate = "switchboard::typescript::ts_rs")]
pub struct RoomMessage {
    /// Position in the room, from 1.
    pub seq: u64,
    /// Who wrote it (as they said).
    pub from: String,
    /// The text.
    pub message: String,
}

/// What the room's summary card shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomSummary {
    /// Messages ever posted to the room (not only those kept).
    pub count: u64,
    /// The latest one.
    pub last: Option<RoomMessage>,
}

/// Why a post was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The room id is not 1 to 64 letters, digits, `_` or `-`.
    #[error("a room id is 1 to 64 letters, digits, underscores or dashes")]
    BadRoom,
    /// Empty or too long a message or name.
    #[error(
        "`message` must be 1 to {MAX_MESSAGE_CHARS} characters (and the author's name 1 to {MAX_AUTHOR_CHARS})"
    )]
    BadMessage,
    /// Too many rooms already.
    #[error("too many rooms")]
    Full,
}

#[derive(Debug, Default)]
struct Room {
    next_seq: u64,
    messages: VecDeque<RoomMessage>,
}

/// Every room's recent messages.
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, Room>>,
}

/// Whether `id` can name a room (and so the channel `room.{id}`).
pub fn valid_room_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A post's author and text, trimmed, once the room id and both lengths are checked.
pub fn checked<'a>(
    room: &str,
    from: &'a str,
    message: &'a str,
) -> Result<(&'a str, &'a str), PostError> {
    if !valid_room_id(room) {
        return Err(PostError::BadRoom);
    }
    let (from, message) = (from.trim(), message.trim());
    let fits = |text: &str, max: usize| !text.is_empty() && text.chars().count() <= max;
    if !fits(from, MAX_AUTHOR_CHARS) || !fits(message, MAX_MESSAGE_CHARS) {
        return Err(PostError::BadMessage);
    }
    Ok((from, message))
}

impl Rooms {
    /// Stores a message, dropping the room's oldest past [`MESSAGES_PER_ROOM`].
    pub fn post(&self, room: &str, from: &str, message: &str) -> Result<RoomMessage, PostError> {
        let (from, message) = checked(room, from, message)?;
        let mut rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
        if !rooms.contains_key(room) && rooms.len() >= MAX_ROOMS {
            return Err(PostError::Full);
        }
        let entry = rooms.entry(room.to_owned()).or_default();
        entry.next_seq += 1;
        let posted = RoomMessage {
            seq: entry.next_seq,
            from: from.to_owned(),
            message: message.to_owned(),
        };
        entry.messages.push_back(posted.clone());
        while entry.messages.len() > MESSAGES_PER_ROOM {
            entry.messages.pop_front();
        }
        Ok(posted)
    }

    /// The room's recent messages, oldest first (none for an unknown room).
    pub fn messages(&self, room: &str) -> Vec<RoomMessage> {
        let rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
        rooms
            .get(room)
            .map(|r| r.messages.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The room's messages as `<li>` items, every user-written text escaped.
    pub fn render(&self, room: &str) -> String {
        render(&self.messages(room))
    }

    /// How many messages the room had and its latest (nothing for an unknown room).
    pub fn summary(&self, room: &str) -> RoomSummary {
        let rooms = self.rooms.lock().unwrap_or_else(PoisonError::into_inner);
        rooms
            .get(room)
            .map(|r| RoomSummary {
                count: r.next_seq,
                last: r.messages.back().cloned(),
            })
            .unwrap_or_default()
    }

    /// The room's summary card (see [`render_summary`]).
    pub fn render_summary(&self, room: &str) -> String {
        render_summary(room, &self.summary(room))
    }
}

/// A room's summary card as an HTML fragment, every user-written text escaped.
///
/// The page morphs it in (`data-sb-swap="morph"`): the draft input is the same element
/// in every version, so what the user types into it survives a refresh.
pub fn render_summary(room: &str, summary: &RoomSummary) -> String {
    let RoomSummary { count, last } = summary;
    let count = *count;
    let mut html = String::new();
    let _ = writeln!(
        html,
        "<p class=\"summary-line\"><code>room.{}</code>: <strong id=\"summary-count\">{count}</strong> {}</p>",
        escape_html(room),
        if count == 1 { "message" } else { "messages" },
    );
    match last {
        Some(m) => {
            let _ = writeln!(
                html,
                "<p class=\"summary-line\" id=\"summary-last\">Last from <strong class=\"from\">{}</strong>: <span class=\"text\">{}</span></p>",
                escape_html(&m.from),
                escape_html(&m.message)
            );
        }
        None => html.push_str(
            "<p class=\"summary-line dim\" id=\"summary-last\">Nobody has posted yet.</p>\n",
        ),
    }
    html.push_str(
        "<label class=\"note\" for=\"room-note\">Draft note</label>\n\
         <input id=\"room-note\" name=\"note\" autocomplete=\"off\" maxlength=\"2000\" \
         placeholder=\"Type here: refreshes keep it\">\n",
    );
    html
}

/// Messages as `<li>` items, every user-written text escaped.
pub fn render(messages: &[RoomMessage]) -> String {
    if messages.is_empty() {
        return "<li class=\"empty\">No messages in this room yet.</li>\n".to_owned();
    }
    let mut html = String::new();
    for m in messages {
        let _ = writeln!(
            html,
            "<li data-seq=\"{}\"><span class=\"from\">{}</span><span class=\"text\">{}</span></li>",
            m.seq,
            escape_html(&m.from),
            escape_html(&m.message)
        );
    }
    html
}

/// Escapes text for an HTML element's content or a quoted attribute value.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        let rooms = Rooms::default();
        rooms
            .post("42", "<b>eve</b>", "<script>alert('x')</script> & \"q\"")
            .expect("fits");
        let html = rooms.render("42");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"),
            "{html}"
        );
    }

    #[test]
    fn the_summary_counts_every_post_and_escapes_the_latest() {
        let rooms = Rooms::default();
        assert_eq!(rooms.summary("s"), RoomSummary::default());
        assert!(rooms.render_summary("s").contains("Nobody has posted yet."));
        for i in 0..MESSAGES_PER_ROOM + 2 {
            rooms.post("s", "ann", &format!("m{i}")).expect("fits");
        }
        rooms.post("s", "<i>eve</i>", "<b>last</b>").expect("fits");
        let summary = rooms.summary("s");
        assert_eq!(summary.count, MESSAGES_PER_ROOM as u64 + 3);
        assert_eq!(summary.last.map(|m| m.from), Some("<i>eve</i>".to_owned()));
        let html = rooms.render_summary("s");
        assert!(html.contains(">103</strong> messages"), "{html}");
        assert!(
            html.contains("&lt;i&gt;eve&lt;/i&gt;") && html.contains("&lt;b&gt;last&lt;/b&gt;"),
            "{html}"
        );
        assert!(!html.contains("<b>") && !html.contains("<i>"), "{html}");
        assert!(html.contains("id=\"room-note\""), "{html}");
    }

    #[test]
    fn a_room_keeps_only_its_latest_messages() {
        let rooms = Rooms::default();
        for i in 0..MESSAGES_PER_ROOM + 5 {
            rooms.post("r", "a", &format!("m{i}")).expect("fits");
        }
        let kept = rooms.messages("r");
        assert_eq!(kept.len(), MESSAGES_PER_ROOM);
        assert_eq!(kept[0].message, "m5");
        assert_eq!(kept[0].seq, 6);
    }

    #[test]
    fn bad_posts_are_refused() {
        let rooms = Rooms::default();
        assert_eq!(rooms.post("a.b", "x", "y"), Err(PostError::BadRoom));
        assert_eq!(rooms.post("", "x", "y"), Err(PostError::BadRoom));
        assert_eq!(rooms.post("r", " ", "y"), Err(PostError::BadMessage));
        let long = "x".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(rooms.post("r", "a", &long), Err(PostError::BadMessage));
        assert!(rooms.messages("r").is_empty());
        assert!(rooms.render("nothing").contains("No messages"));
    }

    #[test]
    fn the_number_of_rooms_is_bounded() {
        let rooms = Rooms::default();
        for i in 0..MAX_ROOMS {
            rooms.post(&format!("r{i}"), "a", "m").expect("room fits");
        }
        assert_eq!(rooms.post("one-more", "a", "m"), Err(PostError::Full));
        assert!(
            rooms.post("r0", "a", "again").is_ok(),
            "existing rooms still take posts"
        );
    }
}
