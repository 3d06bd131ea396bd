//! The `messages` table.

use app::protocol::{ClientId, ConversationId, Message, MessageId, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::{Db, StoreError};

/// A message to store. The body is already validated and trimmed.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub client_id: &'a ClientId,
    pub body: &'a str,
    pub created_at: &'a str,
}

/// What [`insert`] did.
#[derive(Debug, Clone)]
pub enum Inserted {
    /// Stored now.
    New(Message),
    /// `(sender, clientId)` was stored before: the earlier message, unchanged.
    Existing(Message),
}

const COLUMNS: &str = "id, conversation_id, sender_id, client_id, body, created_at";

/// Reads a message from a row with the message columns.
pub fn from_row(row: &SqliteRow) -> Result<Message, sqlx::Error> {
    Ok(Message {
        id: MessageId(row.try_get("id")?),
        conversation_id: ConversationId(row.try_get("conversation_id")?),
        sender_id: UserId(row.try_get("sender_id")?),
        client_id: ClientId(row.try_get("client_id")?),
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Stores a message once per `(sender, clientId)` and moves the conversation's
/// `last_message_id`, in one transaction: when this returns, the message is committed.
pub async fn insert(db: &Db, message: &NewMessage<'_>) -> Result<Inserted, StoreError> {
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, sender_id, client_id, body, created_at) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING id",
    )
    .bind(message.conversation_id.0)
    .bind(message.sender_id.0)
    .bind(&message.client_id.0)
    .bind(message.body)
    .bind(message.created_at)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        tx.rollback().await?;
        let existing = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM messages WHERE sender_id = ? AND client_id = ?"
        ))
        .bind(message.sender_id.0)
        .bind(&message.client_id.0)
        .fetch_one(db)
        .await?;
        return Ok(Inserted::Existing(from_row(&existing)?));
    };
    sqlx::query("UPDATE conversations SET last_message_id = ? WHERE id = ?")
        .bind(id)
        .bind(message.conversation_id.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Inserted::New(Message {
        id: MessageId(id),
        conversation_id: message.conversation_id,
        sender_id: message.sender_id,
        client_id: message.client_id.clone(),
        body: message.body.to_owned(),
        created_at: message.created_at.to_owned(),
    }))
}

/// Messages newer than `after` in all of the user's conversations, in id order, at most
/// `limit` (catch-up after a reconnect).
pub async fn after_for_user(
    db: &Db,
    user: UserId,
    after: MessageId,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.id, m.conversation_id, m.sender_id, m.client_id, m.body, m.created_at \
         FROM messages m \
         JOIN conversation_members cm ON cm.conversation_id = m.conversation_id \
         WHERE cm.user_id = ? AND m.id > ? ORDER BY m.id LIMIT ?",
    )
    .bind(user.0)
    .bind(after.0)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// One page of a conversation's history: up to `limit` messages older than `before` (or the
/// newest), returned oldest first.
pub async fn page(
    db: &Db,
    conversation: ConversationId,
    before: Option<MessageId>,
    limit: u32,
) -> Result<Vec<Message>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ? AND id < ? ORDER BY id DESC LIMIT ?"
    ))
    .bind(conversation.0)
    .bind(before.map_or(i64::MAX, |b| b.0))
    .bind(limit)
    .fetch_all(db)
    .await?;
    let mut messages = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    messages.reverse();
    Ok(messages)
}
