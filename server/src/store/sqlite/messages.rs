//! The message writer's batches on SQLite, on its own rusqlite connection
//! (`store::writer`); reads are `store::messages`, through the sqlx pool.

use app::protocol::{ClientId, ConversationId, MessageId, Timestamp, UserId};

use crate::store::messages::{kind_column, Inserted, MessageRow, NewMessage};

/// The columns of a [`MessageRow`] (`store::messages::COLUMNS`, spelled out here so that the
/// plan test can read this file's statements whole).
const COLUMNS: &str =
    "id, conversation_id, sender_id, client_id, body, created_at, erased, event, subject_id, removed";

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
        event: row.get(7)?,
        subject_id: row.get::<_, Option<i64>>(8)?.map(UserId),
        removed: row.get(9)?,
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
    // A batch of one (every message under light load) is its own transaction: inside
    // BEGIN … COMMIT, SQLite journals each statement that can fail part-way (this one has a
    // trigger) so that it can undo it alone, and BEGIN and COMMIT are two more statements
    // to parse (docs/benchmarks.md). One statement commits or fails whole without either.
    if batch.len() == 1 {
        return insert_each(conn, batch);
    }
    let tx = conn.transaction()?;
    let answers = insert_each(&tx, batch)?;
    tx.commit()?;
    Ok(answers)
}

/// Stores each message of `batch` on `conn` (in the caller's transaction, if any).
fn insert_each(
    conn: &rusqlite::Connection,
    batch: &[NewMessage],
) -> Result<Vec<Inserted>, rusqlite::Error> {
    let mut answers = Vec::with_capacity(batch.len());
    {
        // No conflict target: a member's `(sender, clientId)` and a notice's
        // `(conversation, clientId)` are both "stored before". No RETURNING either: SQLite
        // gathers RETURNING rows in an ephemeral table, opened and closed for every row
        // (≈ 20k instructions a message, docs/benchmarks.md); the row count and the last
        // rowid say the same (a trigger's inserts change neither once the statement ends).
        let mut insert = conn.prepare_cached(
            "INSERT INTO messages \
               (conversation_id, sender_id, kind, client_id, body, created_at, event, subject_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        )?;
        for m in batch {
            let stored = insert.execute(rusqlite::params![
                m.conversation_id.0,
                m.sender_id.map(|s| s.0),
                kind_column(m.sender_id),
                m.client_id.0,
                m.body,
                m.created_at.to_string(),
                m.line.map(|line| line.event.as_str()),
                m.line.and_then(|line| line.subject).map(|s| s.0),
            ])?;
            let id = (stored == 1).then(|| conn.last_insert_rowid());
            answers.push(match id {
                Some(id) => Inserted::New(MessageRow::stored_row(MessageId(id), m.clone())),
                // A repeat is rare: its statement is looked up only then (each lookup in
                // the statement cache costs on every message otherwise).
                None => Inserted::Existing(match m.sender_id {
                    Some(sender) => conn
                        .prepare_cached(&format!(
                            "SELECT {COLUMNS} FROM messages WHERE sender_id = ?1 AND client_id = ?2"
                        ))?
                        .query_row(rusqlite::params![sender.0, m.client_id.0], from_rusqlite)?,
                    None => conn
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
    Ok(answers)
}
