//! The `messages` table. Inserts go through the group-commit writer (`store::writer`);
//! reads are here.

use app::protocol::{ClientId, ConversationId, MessageId, MessageKind, Timestamp, UserId};

use super::{dispatch, Db, StoreError};

/// A message to store. The body is already validated and trimmed.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation_id: ConversationId,
    /// `None` for a notice from Haven ([`MessageKind::Notice`]).
    pub sender_id: Option<UserId>,
    pub client_id: ClientId,
    pub body: String,
    pub created_at: Timestamp,
}

/// A row of `messages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender_id: Option<UserId>,
    pub client_id: ClientId,
    pub body: String,
    pub created_at: Timestamp,
    /// Its sender deleted their account: the body is gone (empty).
    pub erased: bool,
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
    /// Text by a member (erased once they deleted their account), or a notice by Haven.
    pub fn kind(&self) -> MessageKind {
        match (self.sender_id, self.erased) {
            (Some(_), false) => MessageKind::Text,
            (Some(_), true) => MessageKind::Erased,
            (None, _) => MessageKind::Notice,
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

/// Messages newer than `after` in all of the user's conversations, in id order, at most
/// `limit` (catch-up after a reconnect). Ids become visible in id order on both backends
/// (SQLite has one writer; PostgreSQL's writers take ids from one locked counter row), so
/// exactly the messages after `after` are answered.
pub async fn after_for_user(
    db: &Db,
    user: UserId,
    after: MessageId,
    limit: u32,
) -> Result<Vec<MessageRow>, StoreError> {
    dispatch!(db, messages::after_for_user(user, after, limit))
}

/// One page of a conversation's history: up to `limit` messages older than `before` (or the
/// newest), returned oldest first.
pub async fn page(
    db: &Db,
    conversation: ConversationId,
    before: Option<MessageId>,
    limit: u32,
) -> Result<Vec<MessageRow>, StoreError> {
    dispatch!(db, messages::page(conversation, before, limit))
}

/// Every message of a conversation, oldest first (a member's export).
pub async fn all_in(db: &Db, conversation: ConversationId) -> Result<Vec<MessageRow>, StoreError> {
    dispatch!(db, messages::all_in(conversation))
}
