//! The `messages` table on SQLite. Inserts run on the message writer's own rusqlite
//! connection (`store::writer`); reads go through the sqlx pool.

use app::protocol::{ClientId, ConversationId, MessageId, Timestamp, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::time;
use crate::store::messages::{kind_column, Inserted, MessageRow, NewMessage};
use crate::store::StoreError;

const COLUMNS: &str = "id, conversation_id, sender_id, client_id, body, created_at, erased";

/// Reads a message from a row with the message columns.
pub(super) fn from_row(row: &SqliteRow) -> Result<MessageRow, StoreError> {
    Ok(MessageRow {
        id: MessageId(row.try_get("id")?),
        conversation_id: ConversationId(row.try_get("conversation_id")?),
        sender_id: row.try_get::<Option<i64>, _>("sender_id")?.map(UserId),
        client_id: ClientId(row.try_get("client_id")?),
        body: row.try_get("body")?,
        created_at: time(row.try_get("created_at")?)?,
        erased: row.try_get("erased")?,
    })
}

/// Reads a message from a rusqlite row of [`COLUMNS`] (the writer's connection).
fn from_rusqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    let created_at: String = row.get(5)?;
    Ok(MessageRow {
        id: MessageId(row.get(0)?),
        conversation_id: ConversationId(row.get(1)?),
        sender_id: row.get::<_, Option<i64>>(2)?.map(UserId),
        client_id: ClientId(row.get(3)?),
        body: row.get(4)?,
        created_at: Timestamp::parse(&created_at).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
        })?,
        erased: row.get(6)?,
    })
}

/// Stores messages once per `(sender, clientId)`, in one transaction (a group commit); the
/// trigger of migration 3 moves each conversation's `last_message_id`. Runs synchronously on
/// the writer's own connection (see `store::writer`). When this returns, every message is
/// committed. The answers are in the order of `batch`; a `(sender, clientId)` stored
/// before, or twice in the batch, answers [`Inserted::Existing`] with the stored message.
pub fn insert_batch(
    conn: &mut rusqlite::Connection,
    batch: &[NewMessage],
) -> Result<Vec<Inserted>, rusqlite::Error> {
    let tx = conn.transaction()?;
    let mut answers = Vec::with_capacity(batch.len());
    {
        // No conflict target: a member's `(sender, clientId)` and a notice's
        // `(conversation, clientId)` are both "stored before".
        let mut insert = tx.prepare_cached(
            "INSERT INTO messages (conversation_id, sender_id, kind, client_id, body, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING RETURNING id",
        )?;
        for m in batch {
            let id: Option<i64> = insert
                .query_row(
                    rusqlite::params![
                        m.conversation_id.0,
                        m.sender_id.map(|s| s.0),
                        kind_column(m.sender_id),
                        m.client_id.0,
                        m.body,
                        m.created_at.to_string()
                    ],
                    |row| row.get(0),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    other => Err(other),
                })?;
            answers.push(match id {
                Some(id) => Inserted::New(MessageRow::stored_row(MessageId(id), m.clone())),
                // A repeat is rare: its statement is looked up only then (each lookup in
                // the statement cache costs on every message otherwise).
                None => Inserted::Existing(match m.sender_id {
                    Some(sender) => tx
                        .prepare_cached(&format!(
                            "SELECT {COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
                        ))?
                        .query_row(rusqlite::params![sender.0, m.client_id.0], from_rusqlite)?,
                    None => tx
                        .prepare_cached(&format!(
                            "SELECT {COLUMNS} FROM messages \
                             WHERE conversation_id = ?1 AND client_id = ?2 AND kind = 'notice'"
                        ))?
                        .query_row(
                            rusqlite::params![m.conversation_id.0, m.client_id.0],
                            from_rusqlite,
                        )?,
                }),
            });
        }
    }
    tx.commit()?;
    Ok(answers)
}

/// Messages newer than `after` in all of the user's conversations, in id order, at most
/// `limit` (catch-up after a reconnect).
pub async fn after_for_user(
    db: &SqlitePool,
    user: UserId,
    after: MessageId,
    limit: u32,
) -> Result<Vec<MessageRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.id, m.conversation_id, m.sender_id, m.client_id, m.body, m.created_at, m.erased \
         FROM messages m \
         JOIN conversation_members cm ON cm.conversation_id = m.conversation_id \
         WHERE cm.user_id = ? AND m.id > ? ORDER BY m.id LIMIT ?",
    )
    .bind(user.0)
    .bind(after.0)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// One page of a conversation's history: up to `limit` messages older than `before` (or the
/// newest), returned oldest first.
pub async fn page(
    db: &SqlitePool,
    conversation: ConversationId,
    before: Option<MessageId>,
    limit: u32,
) -> Result<Vec<MessageRow>, StoreError> {
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

/// Every message of a conversation, oldest first (a member's export).
pub async fn all_in(
    db: &SqlitePool,
    conversation: ConversationId,
) -> Result<Vec<MessageRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id"
    ))
    .bind(conversation.0)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}
