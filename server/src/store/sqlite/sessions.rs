//! The `tower_sessions` table on SQLite. The store writes `expiry_date` as text (sqlx's
//! encoding of a time), so it is compared through `julianday()`.

use std::collections::HashSet;

use sqlx::SqlitePool;

use crate::store::StoreError;

// `julianday`, not `datetime`: the latter drops the fraction of a second, and the watch would
// then end a session up to a second before the store does.
pub async fn unexpired(db: &SqlitePool, ids: &[String]) -> Result<HashSet<String>, StoreError> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM tower_sessions
         WHERE id IN (SELECT value FROM json_each(?)) AND julianday(expiry_date) > julianday('now')",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Every session's id and record.
pub async fn all(db: &SqlitePool) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    // plan: scans tower_sessions (ending every session of one account, rare: records are MessagePack)
    Ok(sqlx::query_as("SELECT id, data FROM tower_sessions")
        .fetch_all(db)
        .await?)
}

pub async fn delete(db: &SqlitePool, ids: &[String]) -> Result<(), StoreError> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("DELETE FROM tower_sessions WHERE id IN (SELECT value FROM json_each(?))")
        .bind(ids)
        .execute(db)
        .await?;
    Ok(())
}
