//! The `messages` table.

use app::protocol::{ClientId, ConversationId, Message, MessageId, UserId};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row;

use super::{Db, StoreError};

/// A message to store. The body is already validated and trimmed.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub client_id: ClientId,
    pub body: String,
    pub created_at: String,
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

/// SQLite's limit on bound variables per statement is 32766; 5 a row.
pub const MAX_BATCH: usize = 1000;

/// Stores messages once per `(sender, clientId)` with one multi-row INSERT: one atomic
/// statement whatever the batch size (a group commit), and the trigger of migration 3 moves
/// each conversation's `last_message_id` inside it. When this returns, every message is
/// committed. The answers are in the order of `batch`; a `(sender, clientId)` stored
/// before, or twice in the batch, answers [`Inserted::Existing`] with the stored message.
pub async fn insert_batch(
    conn: &mut SqliteConnection,
    batch: &[NewMessage],
) -> Result<Vec<Inserted>, StoreError> {
    debug_assert!(batch.len() <= MAX_BATCH);
    let mut sql = String::from(
        "INSERT INTO messages (conversation_id, sender_id, client_id, body, created_at) VALUES ",
    );
    sql.push_str(&vec!["(?, ?, ?, ?, ?)"; batch.len()].join(", "));
    sql.push_str(
        " ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING id, sender_id, client_id",
    );
    let mut insert = sqlx::query(&sql);
    for m in batch {
        insert = insert
            .bind(m.conversation_id.0)
            .bind(m.sender_id.0)
            .bind(&m.client_id.0)
            .bind(&m.body)
            .bind(&m.created_at);
    }
    let mut new_ids = std::collections::HashMap::with_capacity(batch.len());
    for row in insert.fetch_all(&mut *conn).await? {
        let key: (i64, String) = (row.try_get("sender_id")?, row.try_get("client_id")?);
        new_ids.insert(key, row.try_get::<i64, _>("id")?);
    }

    let mut answers = Vec::with_capacity(batch.len());
    for m in batch {
        // Each new id answers once; a second row with the same key is a duplicate.
        match new_ids.remove(&(m.sender_id.0, m.client_id.0.clone())) {
            Some(id) => answers.push(Inserted::New(Message {
                id: MessageId(id),
                conversation_id: m.conversation_id,
                sender_id: m.sender_id,
                client_id: m.client_id.clone(),
                body: m.body.clone(),
                created_at: m.created_at.clone(),
            })),
            None => {
                let existing = sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM messages WHERE sender_id = ? AND client_id = ?"
                ))
                .bind(m.sender_id.0)
                .bind(&m.client_id.0)
                .fetch_one(&mut *conn)
                .await?;
                answers.push(Inserted::Existing(from_row(&existing)?));
            }
        }
    }
    Ok(answers)
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
