//! The `tower_sessions` table, read directly for what tower-sessions' store cannot answer
//! in one query: which of many sessions are still valid. The store writes `expiry_date` as
//! text (sqlx's encoding of a time), so it is compared through `datetime()`, as the store's
//! own cleanup does.

use std::collections::HashSet;

use super::{Db, StoreError};

/// Of the session ids given, those that exist and have not expired.
pub async fn unexpired(db: &Db, ids: &[String]) -> Result<HashSet<String>, StoreError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM tower_sessions
         WHERE id IN (SELECT value FROM json_each(?)) AND datetime(expiry_date) > datetime('now')",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
