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
    /// The conversation's newest message as this member's row keeps it: the sidebar's
    /// order (0 before the first message).
    pub activity: MessageId,
}

/// Where a page of the sidebar in most-recent-first order starts: after this
/// `(activity, conversation)` (exclusive), or from the top.
pub type RecentCursor = Option<(MessageId, ConversationId)>;

/// Where a page of the conversations awaiting a reply, longest first, starts: after this
/// `(awaiting since, conversation)` (exclusive), or from the longest.
pub type WaitingCursor = Option<(Timestamp, ConversationId)>;

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

/// A page of the user's conversations, most recent activity first, at most `limit`;
/// with `not_waiting`, only those not awaiting the user's reply. An index walk from
/// `after`: the cost is the page's, however many conversations the user has.
pub async fn recent_page(
    db: &Db,
    user: UserId,
    after: RecentCursor,
    not_waiting: bool,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    dispatch!(
        db,
        conversations::recent_page(user, after, not_waiting, limit)
    )
}

/// A page of the user's conversations awaiting their reply, the longest waiting first.
pub async fn waiting_page(
    db: &Db,
    user: UserId,
    after: WaitingCursor,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    dispatch!(db, conversations::waiting_page(user, after, limit))
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
