//! The `access_log` table on SQLite (its triggers refuse updates and deletions).

use std::net::IpAddr;

use app::protocol::{AccessKind, ConversationId, Timestamp, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::time;
use crate::store::access::{parse_role_and_kind, AccessRow, AuditFilter};
use crate::store::StoreError;

/// Records that `user` opened one conversation's content.
pub async fn record(
    db: &SqlitePool,
    user: UserId,
    conversation: ConversationId,
    kind: AccessKind,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_log (at, user_id, conversation_id, action, address) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(at.to_string())
    .bind(user.0)
    .bind(conversation.0)
    .bind(kind.as_str())
    .bind(address.map(|a| a.to_string()))
    .execute(db)
    .await?;
    Ok(())
}

/// Records that `user` opened every conversation they are a member of (a live connection
/// receives all of them), in one statement.
pub async fn record_all_of_member(
    db: &SqlitePool,
    user: UserId,
    kind: AccessKind,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_log (at, user_id, conversation_id, action, address) \
         SELECT ?1, ?2, conversation_id, ?3, ?4 FROM conversation_members WHERE user_id = ?2",
    )
    .bind(at.to_string())
    .bind(user.0)
    .bind(kind.as_str())
    .bind(address.map(|a| a.to_string()))
    .execute(db)
    .await?;
    Ok(())
}

const SELECT: &str = "SELECT a.id, a.at, a.user_id, u.username, u.display_name, u.role, \
        a.conversation_id, a.action, a.address \
        FROM access_log a LEFT JOIN users u ON u.id = a.user_id";

/// The newest accesses by anyone else to the conversations `user` is a member of.
pub async fn by_others_to_member(
    db: &SqlitePool,
    user: UserId,
    limit: u32,
) -> Result<Vec<AccessRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE a.conversation_id IN \
           (SELECT conversation_id FROM conversation_members WHERE user_id = ?1) \
         AND a.user_id IS NOT ?1 ORDER BY a.id DESC LIMIT ?2"
    ))
    .bind(user.0)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Accesses matching `filter`, oldest first.
pub async fn audit(db: &SqlitePool, filter: &AuditFilter) -> Result<Vec<AccessRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE (?1 IS NULL OR a.conversation_id = ?1) AND (?2 IS NULL OR a.user_id = ?2) \
         AND (?3 IS NULL OR a.at >= ?3) ORDER BY a.id"
    ))
    .bind(filter.conversation.map(|c| c.0))
    .bind(filter.user.map(|u| u.0))
    .bind(filter.since.map(|s| s.to_string()))
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &SqliteRow) -> Result<AccessRow, StoreError> {
    let action: String = row.try_get("action")?;
    let (role, kind) = parse_role_and_kind(row.try_get("role")?, &action)?;
    Ok(AccessRow {
        id: row.try_get("id")?,
        at: time(row.try_get("at")?)?,
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role,
        conversation_id: ConversationId(row.try_get("conversation_id")?),
        kind,
        address: row.try_get("address")?,
    })
}
