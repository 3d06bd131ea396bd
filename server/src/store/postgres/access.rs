//! The `access_log` table on PostgreSQL (its triggers refuse updates, deletions and
//! TRUNCATE).

use std::net::IpAddr;

use app::protocol::{AccessKind, ConversationId, Timestamp, UserId};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

use super::{pg_time, time};
use crate::store::access::{parse_role_and_kind, AccessRow};
use crate::store::StoreError;

/// Appends one access; `conversation` is `None` for a live connection.
pub async fn record(
    db: &PgPool,
    user: UserId,
    conversation: Option<ConversationId>,
    kind: AccessKind,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO access_log (at, user_id, conversation_id, action, address) \
         VALUES ($1, $2, $3, $4, $5::inet)",
    )
    .bind(pg_time(at))
    .bind(user.0)
    .bind(conversation.map(|c| c.0))
    .bind(kind.as_str())
    .bind(address.map(|a| a.to_string()))
    .execute(db)
    .await?;
    Ok(())
}

/// The conversations of `user`: each with its other member and when it began.
pub async fn peers_of(
    db: &PgPool,
    user: UserId,
) -> Result<Vec<(ConversationId, UserId, Timestamp)>, StoreError> {
    sqlx::query(
        "SELECT me.conversation_id, other.user_id, c.created_at AS began \
         FROM conversation_members me \
         JOIN conversation_members other \
           ON other.conversation_id = me.conversation_id AND other.user_id <> me.user_id \
         JOIN conversations c ON c.id = me.conversation_id \
         WHERE me.user_id = $1",
    )
    .bind(user.0)
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok((
            ConversationId(row.try_get("conversation_id")?),
            UserId(row.try_get("user_id")?),
            time(row.try_get("began")?),
        ))
    })
    .collect()
}

/// The members of a conversation, with when it began.
pub async fn members_of(
    db: &PgPool,
    conversation: ConversationId,
) -> Result<Vec<(UserId, Timestamp)>, StoreError> {
    sqlx::query(
        "SELECT m.user_id, c.created_at AS began FROM conversation_members m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = $1",
    )
    .bind(conversation.0)
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| Ok((UserId(row.try_get("user_id")?), time(row.try_get("began")?))))
    .collect()
}

const SELECT: &str = "SELECT a.id, a.at, a.user_id, u.username, u.display_name, u.role, \
        a.conversation_id, a.action, host(a.address) AS address \
        FROM access_log a LEFT JOIN users u ON u.id = a.user_id";

/// The newest accesses to one conversation by anyone but `except`.
pub async fn newest_to_conversation(
    db: &PgPool,
    conversation: ConversationId,
    except: UserId,
    limit: u32,
) -> Result<Vec<AccessRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE a.conversation_id = $1 AND a.user_id IS DISTINCT FROM $2 \
         ORDER BY a.at DESC LIMIT $3"
    ))
    .bind(conversation.0)
    .bind(except.0)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The newest live connections of `user` since `since`.
pub async fn newest_connections(
    db: &PgPool,
    user: UserId,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<AccessRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE a.user_id = $1 AND a.conversation_id IS NULL AND a.at >= $2 \
         ORDER BY a.at DESC LIMIT $3"
    ))
    .bind(user.0)
    .bind(pg_time(since))
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Every access to one conversation since `since`, oldest first.
pub async fn to_conversation(
    db: &PgPool,
    conversation: ConversationId,
    since: Timestamp,
) -> Result<Vec<AccessRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE a.conversation_id = $1 AND a.at >= $2 ORDER BY a.at"
    ))
    .bind(conversation.0)
    .bind(pg_time(since))
    .fetch_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Every access by `user` since `since` (with `connections_only`, their live connections),
/// oldest first.
pub async fn by_user(
    db: &PgPool,
    user: UserId,
    since: Timestamp,
    connections_only: bool,
) -> Result<Vec<AccessRow>, StoreError> {
    let sql = if connections_only {
        format!(
            "{SELECT} WHERE a.user_id = $1 AND a.conversation_id IS NULL AND a.at >= $2 \
             ORDER BY a.at"
        )
    } else {
        format!("{SELECT} WHERE a.user_id = $1 AND a.at >= $2 ORDER BY a.at")
    };
    let rows = sqlx::query(&sql)
        .bind(user.0)
        .bind(pg_time(since))
        .fetch_all(db)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every access since `since`, oldest first.
pub async fn since(db: &PgPool, since: Timestamp) -> Result<Vec<AccessRow>, StoreError> {
    // plan: scans users (haven audit --since lists the whole record since a date: names for all)
    let rows = sqlx::query(&format!("{SELECT} WHERE a.at >= $1 ORDER BY a.at"))
        .bind(pg_time(since))
        .fetch_all(db)
        .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &PgRow) -> Result<AccessRow, StoreError> {
    let action: String = row.try_get("action")?;
    let (role, kind) = parse_role_and_kind(row.try_get("role")?, &action)?;
    Ok(AccessRow {
        id: row.try_get("id")?,
        at: time(row.try_get("at")?),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role,
        conversation_id: row
            .try_get::<Option<i64>, _>("conversation_id")?
            .map(ConversationId),
        kind,
        address: row.try_get("address")?,
    })
}
