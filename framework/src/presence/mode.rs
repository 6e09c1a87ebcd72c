/// What a channel's presence keeps, as its listener declares it:
/// `#[channel("room.{id}", presence)]` or `#[channel("stadium.{id}", presence(counts))]`.
///
/// ```
/// use switchboard::PresenceMode;
/// assert!(PresenceMode::Members.lists_members());
/// assert!(!PresenceMode::Counts.lists_members());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PresenceMode {
    /// Members by user id (with their `info`), `presence-join` and `presence-leave`
    /// as users come and go, and the counts.
    Members,
    /// Only the number of users and of connections: no member list and no per-user
    /// packets, so a channel with 100k members costs a counter, not a fan-out per join.
    Counts,
}

impl PresenceMode {
    /// Whether members are listed and their joins and leaves announced.
    pub const fn lists_members(self) -> bool {
        matches!(self, Self::Members)
    }

    /// One letter, as the broker's scripts keep it beside the channel's name.
    pub(crate) const fn letter(self) -> &'static str {
        match self {
            Self::Members => "m",
            Self::Counts => "c",
        }
    }
}
