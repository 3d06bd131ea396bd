//! The `conversations`, `conversation_members` and `direct_conversations` tables.

use app::protocol::{ConversationId, MessageId, Timestamp, UserId};

use super::messages::MessageRow;
use super::users::{LastSeen, Profile};
use super::{dispatch, Db, StoreError};

/// A conversation as one member's sidebar lists it.
#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: ConversationId,
    /// The other member.
    pub peer: Profile,
    pub last_message: Option<MessageRow>,
    /// Messages of the other member after this member's read marker.
    pub unread: u32,
    /// The other member's first message since this member last wrote or marked the
    /// conversation handled: they are waiting for an answer since then.
    pub awaiting_since: Option<Timestamp>,
}

/// The one-to-one conversation of a student and a psychiatrist, created on first use.
pub async fn open_direct(
    db: &Db,
    student: UserId,
    psychiatrist: UserId,
) -> Result<ConversationId, StoreError> {
    dispatch!(db, conversations::open_direct(student, psychiatrist))
}

/// The conversation of this student and psychiatrist, if one exists.
pub async fn find_direct(
    db: &Db,
    student: UserId,
    psychiatrist: UserId,
) -> Result<Option<ConversationId>, StoreError> {
    dispatch!(db, conversations::find_direct(student, psychiatrist))
}

/// The members of a conversation (empty if it does not exist).
pub async fn members(db: &Db, conversation: ConversationId) -> Result<Vec<UserId>, StoreError> {
    dispatch!(db, conversations::members(conversation))
}

/// The user's conversations for the sidebar, most recent activity first.
pub async fn list_for(db: &Db, user: UserId) -> Result<Vec<ConversationRow>, StoreError> {
    dispatch!(db, conversations::list_for(user))
}

/// Marks the conversation handled by `user` up to its newest message: it no longer awaits
/// their reply until the other member writes again.
pub async fn mark_handled(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<(), StoreError> {
    dispatch!(db, conversations::mark_handled(conversation, user))
}

/// Marks the conversation unread for `user`: counted unread in their sidebar until they
/// read it again (their read marker, and so the other member's "Seen", stays).
pub async fn mark_unread(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<(), StoreError> {
    dispatch!(db, conversations::mark_unread(conversation, user))
}

/// A student's first message in a conversation, and how many conversations they have.
pub async fn student_facts(
    db: &Db,
    conversation: ConversationId,
    student: UserId,
) -> Result<(Option<Timestamp>, u32), StoreError> {
    dispatch!(db, conversations::student_facts(conversation, student))
}

/// The people who share a conversation with `user`, with their last-seen times.
pub async fn peers_last_seen(db: &Db, user: UserId) -> Result<Vec<LastSeen>, StoreError> {
    dispatch!(db, conversations::peers_last_seen(user))
}

/// Moves a member's read marker forward to `read` (never backwards), if `read` is a message
/// of this conversation; `at` is recorded when the marker moves. Answers the marker and its
/// time after the update, or `None` if `read` is not a message of the conversation.
pub async fn mark_read(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
    read: MessageId,
    at: Timestamp,
) -> Result<Option<(MessageId, Option<Timestamp>)>, StoreError> {
    dispatch!(db, conversations::mark_read(conversation, user, read, at))
}

/// A member's read marker and when it last moved (0 and none if never read).
pub async fn read_marker(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<(MessageId, Option<Timestamp>), StoreError> {
    dispatch!(db, conversations::read_marker(conversation, user))
}
