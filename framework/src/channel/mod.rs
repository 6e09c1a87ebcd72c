//! Channel listener actors: one per active concrete channel on this node.
//!
//! The actor for `user:chat.42` is started by its first subscriber and retired when
//! its last local subscriber leaves. Its events run one at a time, in arrival order,
//! so a listener may keep per-channel state in its fields; different channels run in
//! parallel, each on the worker thread of its first subscriber.

mod actor;
mod directory;

pub(crate) use actor::{Authorise, ChannelActor, Dispatch, Lifecycle, authorisation_timeout};
pub(crate) use directory::Channels;
