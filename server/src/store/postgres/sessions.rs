//! `tower_sessions.session` on PostgreSQL.

use std::collections::HashSet;

use sqlx::postgres::PgPool;

use crate::store::StoreError;

pub async fn unexpired(db: &PgPool, ids: &[String]) -> Result<HashSet<String>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM tower_sessions.session WHERE id = ANY($1) AND expiry_date > now()",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Every session's id and record.
pub async fn all(db: &PgPool) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    Ok(
        // plan: scans session (ending every session of one account, rare: records are MessagePack)
        sqlx::query_as("SELECT id, data FROM tower_sessions.session")
            .fetch_all(db)
            .await?,
    )
}

pub async fn delete(db: &PgPool, ids: &[String]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM tower_sessions.session WHERE id = ANY($1)")
        .bind(ids)
        .execute(db)
        .await?;
    Ok(())
}
