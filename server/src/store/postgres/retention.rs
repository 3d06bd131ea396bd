//! The retention rule on PostgreSQL.

use app::protocol::Timestamp;
use sqlx::postgres::PgPool;

use super::pg_time;
use crate::store::retention::{Purged, DELETE_EMPTY_ACCOUNTS, EMPTY_OF_DELETED};
use crate::store::StoreError;

pub async fn purge(db: &PgPool, cutoff: Timestamp, dry_run: bool) -> Result<Purged, StoreError> {
    let mut tx = db.begin().await?;
    // plan: scans messages (haven purge, an administrator's batch job, reads it once)
    let messages = sqlx::query("DELETE FROM messages WHERE created_at < $1")
        .bind(pg_time(cutoff))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let empty: Vec<i64> = sqlx::query_scalar(EMPTY_OF_DELETED)
        .fetch_all(&mut *tx)
        .await?;
    for statement in [
        "DELETE FROM direct_conversations WHERE conversation_id = ANY($1)",
        "DELETE FROM conversation_members WHERE conversation_id = ANY($1)",
        "DELETE FROM conversations WHERE id = ANY($1)",
    ] {
        sqlx::query(statement)
            .bind(&empty)
            .execute(&mut *tx)
            .await?;
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
