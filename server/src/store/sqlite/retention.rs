//! The retention rule on SQLite.

use app::protocol::Timestamp;
use sqlx::SqlitePool;

use crate::store::retention::{Purged, DELETE_EMPTY_ACCOUNTS, EMPTY_OF_DELETED};
use crate::store::StoreError;

/// Deletes what the rule says for messages stored before `cutoff`, in one transaction;
/// with `dry_run`, only counts (the transaction is rolled back).
pub async fn purge(
    db: &SqlitePool,
    cutoff: Timestamp,
    dry_run: bool,
) -> Result<Purged, StoreError> {
    let mut tx = db.begin().await?;
    // Times are stored at fixed precision, so text order is time order.
    // plan: scans messages (haven purge, an administrator's batch job, reads it once)
    let messages = sqlx::query("DELETE FROM messages WHERE created_at < ?")
        .bind(cutoff.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let empty: Vec<i64> = sqlx::query_scalar(EMPTY_OF_DELETED)
        .fetch_all(&mut *tx)
        .await?;
    let ids = serde_json::to_string(&empty).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    for statement in [
        "DELETE FROM direct_conversations WHERE conversation_id IN (SELECT value FROM json_each(?))",
        "DELETE FROM conversation_members WHERE conversation_id IN (SELECT value FROM json_each(?))",
        "DELETE FROM conversations WHERE id IN (SELECT value FROM json_each(?))",
    ] {
        sqlx::query(statement).bind(&ids).execute(&mut *tx).await?;
    }
    let accounts = sqlx::query(DELETE_EMPTY_ACCOUNTS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let purged = Purged {
        messages,
        conversations: empty.len() as u64,
        accounts,
    };
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(purged)
}
