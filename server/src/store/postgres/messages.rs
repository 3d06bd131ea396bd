//! The message writer's batches on PostgreSQL (reads are `store::messages`).

use std::collections::HashMap;

use app::protocol::{ClientId, ConversationId, MessageId, UserId};
use sqlx::postgres::PgPool;
use sqlx::Row;
use time::OffsetDateTime;

use super::{client_id, pg_uuid};
use crate::store::messages::{kind_column, Inserted, MessageRow, NewMessage};

/// The columns of a [`MessageRow`] (`store::messages::COLUMNS`, spelled out here so that the
/// plan test can read this file's statements whole).
const COLUMNS: &str =
    "id, conversation_id, sender_id, client_id, body, created_at, erased, event, subject_id, removed";
use crate::store::StoreError;

/// What makes a message "stored before": a member's `(sender, clientId)`, a notice's
/// `(conversation, clientId)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Member(UserId, String),
    Notice(ConversationId, String),
}

fn key(conversation: ConversationId, sender: Option<UserId>, client: &ClientId) -> Key {
    match sender {
        Some(sender) => Key::Member(sender, client.0.clone()),
        None => Key::Notice(conversation, client.0.clone()),
    }
}

/// Stores a batch with one statement, whatever its size, in one round trip: the columns go
/// as arrays through `UNNEST`, in batch order, and `ON CONFLICT DO NOTHING` skips what was
/// stored before; the same statement takes the batch's ids from the one counter row and
/// moves each conversation's `last_message_id` (never backwards: another node may have
/// moved it further). A statement on its own is a transaction: the counter row's lock is
/// held until it commits, so every node's batches commit in id order (catch-up trusts
/// that). A repeat within the batch is resolved here, before the database sees it. The
/// answers are in the order of `batch`, as on SQLite.
///
/// One statement instead of `BEGIN`, three statements and `COMMIT`: four round trips fewer
/// per batch, each a wake-up, two system calls and sqlx's protocol work (a few percent of
/// Haven's CPU at 2k msg/s, where batches already shared them: docs/benchmarks.md).
pub async fn insert_batch(db: &PgPool, batch: &[NewMessage]) -> Result<Vec<Inserted>, StoreError> {
    // Which earlier message of the batch each one repeats, if any.
    let mut first_of: HashMap<Key, usize> = HashMap::with_capacity(batch.len());
    let repeats: Vec<Option<usize>> = batch
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let k = key(m.conversation_id, m.sender_id, &m.client_id);
            match first_of.get(&k) {
                Some(&first) => Some(first),
                None => {
                    first_of.insert(k, i);
                    None
                }
            }
        })
        .collect();
    let unique: Vec<&NewMessage> = batch
        .iter()
        .zip(&repeats)
        .filter(|(_, repeat)| repeat.is_none())
        .map(|(m, _)| m)
        .collect();

    // Data-modifying CTEs all run, once, whatever the final SELECT reads; `stored` reads
    // the counter first (its scalar subquery), so the lock is taken before any row.
    let rows = sqlx::query(
        "WITH ids AS ( \
           UPDATE message_ids SET last_id = last_id + $7 WHERE only_row RETURNING last_id \
         ), stored AS ( \
           INSERT INTO messages \
             (id, conversation_id, sender_id, kind, client_id, body, created_at, event, subject_id) \
           SELECT (SELECT last_id FROM ids) - $7 + n, conversation_id, sender_id, kind, client_id, \
                  body, created_at, event, subject_id \
           FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::uuid[], $5::text[], \
                       $6::timestamptz[], $8::text[], $9::bigint[]) \
             WITH ORDINALITY AS batch(conversation_id, sender_id, kind, client_id, body, \
                                      created_at, event, subject_id, n) \
           ORDER BY n \
           ON CONFLICT DO NOTHING \
           RETURNING id, conversation_id, sender_id, client_id \
         ), newest AS ( \
           UPDATE conversations c \
           SET last_message_id = GREATEST(COALESCE(c.last_message_id, 0), n.id) \
           FROM (SELECT conversation_id, MAX(id) AS id FROM stored GROUP BY conversation_id) n \
           WHERE c.id = n.conversation_id \
         ) \
         SELECT id, conversation_id, sender_id, client_id FROM stored",
    )
    .bind(unique.iter().map(|m| m.conversation_id.0).collect::<Vec<_>>())
    .bind(unique.iter().map(|m| m.sender_id.map(|s| s.0)).collect::<Vec<_>>())
    .bind(unique.iter().map(|m| kind_column(m.sender_id)).collect::<Vec<_>>())
    .bind(unique.iter().map(|m| pg_uuid(&m.client_id)).collect::<Result<Vec<_>, _>>()?)
    .bind(unique.iter().map(|m| m.body.as_str()).collect::<Vec<_>>())
    .bind(unique.iter().map(|m| m.created_at.to_offset_date_time()).collect::<Vec<OffsetDateTime>>())
    .bind(unique.len() as i64)
    .bind(unique.iter().map(|m| m.line.map(|line| line.event.as_str())).collect::<Vec<_>>())
    .bind(unique.iter().map(|m| m.line.and_then(|line| line.subject).map(|s| s.0)).collect::<Vec<_>>())
    .fetch_all(db)
    .await?;
    let mut new_ids: HashMap<Key, i64> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let conversation: i64 = row.try_get("conversation_id")?;
        let sender = row.try_get::<Option<i64>, _>("sender_id")?.map(UserId);
        let client = client_id(row.try_get("client_id")?);
        new_ids.insert(key(ConversationId(conversation), sender, &client), id);
    }

    // Answers in batch order, so a repeat finds its first occurrence's answer at `first`.
    let mut answers: Vec<Inserted> = Vec::with_capacity(batch.len());
    for (m, repeat) in batch.iter().zip(&repeats) {
        let answer = match repeat {
            Some(first) => Inserted::Existing(match &answers[*first] {
                Inserted::New(row) | Inserted::Existing(row) => row.clone(),
            }),
            None => {
                let k = key(m.conversation_id, m.sender_id, &m.client_id);
                match new_ids.get(&k) {
                    Some(&id) => Inserted::New(MessageRow::stored_row(MessageId(id), m.clone())),
                    // Stored before this batch (rare): read back, committed before it.
                    None => Inserted::Existing(stored_before(db, &k).await?),
                }
            }
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// The message stored before under `key`.
async fn stored_before(db: &PgPool, key: &Key) -> Result<MessageRow, StoreError> {
    let row = match key {
        Key::Member(sender, client) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM messages WHERE sender_id = $1 AND client_id = $2::uuid"
            ))
            .bind(sender.0)
            .bind(client)
            .fetch_one(db)
            .await?
        }
        Key::Notice(conversation, client) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM messages \
                 WHERE conversation_id = $1 AND client_id = $2::uuid AND kind = 'notice'"
            ))
            .bind(conversation.0)
            .bind(client)
            .fetch_one(db)
            .await?
        }
    };
    Ok(sqlx::FromRow::from_row(&row)?)
}
