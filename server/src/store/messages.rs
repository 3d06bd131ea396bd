//! The `messages` table. Inserts go through the group-commit writer (`store::writer`);
//! reads are here.

use app::protocol::{ClientId, ConversationId, MessageId, MessageKind, Timestamp, UserId};

use super::{on_either, Db, StoreError};

/// A message to store. The body is already validated and trimmed.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation_id: ConversationId,
    /// `None` for a notice from Haven ([`MessageKind::Notice`]).
    pub sender_id: Option<UserId>,
    pub client_id: ClientId,
    pub body: String,
    pub created_at: Timestamp,
    /// For a quiet line in a group (a notice without a sender): what happened, to whom.
    pub line: Option<Line>,
}

/// A quiet line in a group's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub event: LineEvent,
    /// Who joined, left or was removed (none for a closing).
    pub subject: Option<UserId>,
}

/// What a quiet line says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEvent {
    Joined,
    Left,
    Removed,
    Closed,
}

impl LineEvent {
    /// The stored `event`.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEvent::Joined => "joined",
            LineEvent::Left => "left",
            LineEvent::Removed => "removed",
            LineEvent::Closed => "closed",
        }
    }
}

/// A row of `messages`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender_id: Option<UserId>,
    pub client_id: ClientId,
    pub body: String,
    pub created_at: Timestamp,
    /// Its sender deleted their account: the body is gone (empty).
    pub erased: bool,
    /// A quiet line's stored `event` (`joined`, `left`, `removed`, `closed`).
    pub event: Option<String>,
    /// Whom a quiet line is about.
    pub subject_id: Option<UserId>,
    /// Its group's leader removed it: the body is gone (empty).
    pub removed: bool,
}

/// What the writer did with one message.
#[derive(Debug, Clone)]
pub enum Inserted {
    /// Stored now.
    New(MessageRow),
    /// `(sender, clientId)` (for a notice: `(conversation, clientId)`) was stored before:
    /// the earlier message, unchanged.
    Existing(MessageRow),
}

impl MessageRow {
    /// Text by a member (erased once they deleted their account, removed by a group's
    /// leader), a notice by Haven, or a quiet line in a group.
    pub fn kind(&self) -> MessageKind {
        match (self.sender_id, self.erased, self.removed) {
            (Some(_), true, _) => MessageKind::Erased,
            (Some(_), false, true) => MessageKind::Removed,
            (Some(_), false, false) => MessageKind::Text,
            (None, _, _) => match self.event.as_deref() {
                Some("joined") => MessageKind::MemberJoined,
                Some("left") => MessageKind::MemberLeft,
                Some("removed") => MessageKind::MemberRemoved,
                Some("closed") => MessageKind::GroupClosed,
                _ => MessageKind::Notice,
            },
        }
    }

    /// A message of `new`, stored with `id`.
    pub(super) fn stored_row(id: MessageId, new: NewMessage) -> Self {
        MessageRow {
            id,
            conversation_id: new.conversation_id,
            sender_id: new.sender_id,
            client_id: new.client_id,
            body: new.body,
            created_at: new.created_at,
            erased: false,
            event: new.line.map(|line| line.event.as_str().to_owned()),
            subject_id: new.line.and_then(|line| line.subject),
            removed: false,
        }
    }
}

/// The stored `kind`: the schema ties it to the sender (`CHECK ((kind = 'text') =
/// (sender_id IS NOT NULL))`), so Rust never keeps it apart from the sender.
pub(super) fn kind_column(sender: Option<UserId>) -> &'static str {
    match sender {
        Some(_) => "text",
        None => "notice",
    }
}

/// The columns of a [`MessageRow`].
const COLUMNS: &str =
    "id, conversation_id, sender_id, client_id, body, created_at, erased, event, subject_id, removed";

/// Messages newer than `after` in all of the user's conversations (in a group, since they
/// joined), in id order, at most `limit` (catch-up after a reconnect; on PostgreSQL ids
/// commit in order, see `store::writer`).
pub async fn after_for_user(
    db: &Db,
    user: UserId,
    after: MessageId,
    limit: u32,
) -> Result<Vec<MessageRow>, StoreError> {
    on_either!(db, |pool| {
        Ok(sqlx::query_as(
        "SELECT m.id, m.conversation_id, m.sender_id, m.client_id, m.body, m.created_at, m.erased, \
           m.event, m.subject_id, m.removed \
         FROM messages m \
         JOIN conversation_members cm ON cm.conversation_id = m.conversation_id \
         WHERE cm.user_id = $1 AND m.id > $2 AND m.id > cm.visible_after_id ORDER BY m.id LIMIT $3",
    )
    .bind(user)
    .bind(after)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?)
    })
}

/// One page of a conversation's history: up to `limit` messages older than `before` (or the
/// newest) and newer than `since` (a group member's first visible message), returned
/// oldest first.
pub async fn page(
    db: &Db,
    conversation: ConversationId,
    before: Option<MessageId>,
    since: MessageId,
    limit: u32,
) -> Result<Vec<MessageRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = $1 AND id < $2 AND id > $4 \
         ORDER BY id DESC LIMIT $3"
    );
    let mut messages: Vec<MessageRow> = on_either!(db, |pool| sqlx::query_as(&sql)
        .bind(conversation)
        .bind(before.unwrap_or(MessageId(i64::MAX)))
        .bind(i64::from(limit))
        .bind(since)
        .fetch_all(pool)
        .await?);
    messages.reverse();
    Ok(messages)
}

/// Every message of a conversation newer than `since`, oldest first (a member's export).
pub async fn all_in(
    db: &Db,
    conversation: ConversationId,
    since: MessageId,
) -> Result<Vec<MessageRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY id"
    );
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(conversation)
        .bind(since)
        .fetch_all(pool)
        .await?))
}
