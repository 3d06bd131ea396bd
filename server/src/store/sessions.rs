//! The `tower_sessions` table, read directly for what tower-sessions' store cannot answer
//! in one query: which of many sessions are still valid. The store writes `expiry_date` as
//! text (sqlx's encoding of a time), so it is compared through `datetime()`, as the store's
//! own cleanup does.

use std::collections::HashSet;

use app::protocol::UserId;
use tower_sessions::session::Record;

use super::{Db, StoreError};

/// Of the session ids given, those that exist and have not expired.
// `julianday`, not `datetime`: the latter drops the fraction of a second, and the watch would
// then end a session up to a second before the store does.
pub async fn unexpired(db: &Db, ids: &[String]) -> Result<HashSet<String>, StoreError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
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

/// A stored session of one user: its id and, if signed in with sockets, its socket room
/// token (`auth::session`'s keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    pub id: String,
    pub socket_room: Option<String>,
}

/// Every stored session of `user`. The store keeps each record as MessagePack, which SQL
/// cannot look into, so all are read and decoded: for the rare deletion of an account.
pub async fn of_user(
    db: &Db,
    user: UserId,
    user_key: &str,
    room_key: &str,
) -> Result<Vec<UserSession>, StoreError> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT id, data FROM tower_sessions")
        .fetch_all(db)
        .await?;
    let mut found = Vec::new();
    for (id, data) in rows {
        // An unreadable record belongs to no one we can name; it expires by itself.
        let Ok(record) = rmp_serde::from_slice::<Record>(&data) else {
            continue;
        };
        let owner = record
            .data
            .get(user_key)
            .and_then(|u| u.get("id"))
            .and_then(serde_json::Value::as_i64);
        if owner == Some(user.0) {
            let socket_room = record
                .data
                .get(room_key)
                .and_then(|r| r.as_str())
                .map(str::to_owned);
            found.push(UserSession { id, socket_room });
        }
    }
    Ok(found)
}

/// Deletes these sessions: their cookies no longer sign anyone in.
pub async fn delete(db: &Db, ids: &[String]) -> Result<(), StoreError> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query("DELETE FROM tower_sessions WHERE id IN (SELECT value FROM json_each(?))")
        .bind(ids)
        .execute(db)
        .await?;
    Ok(())
}
