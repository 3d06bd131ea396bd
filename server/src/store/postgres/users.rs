//! The `users` table on PostgreSQL.

use app::protocol::{Role, Timestamp, UserId};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

use super::{optional_time, pg_time};
use crate::store::users::{LastSeen, NewUser, Profile, UserRecord, DELETED_NAME};
use crate::store::StoreError;

pub(super) fn last_seen_row(row: &PgRow) -> Result<LastSeen, StoreError> {
    Ok((
        UserId(row.try_get("id")?),
        optional_time(row.try_get("last_seen_at")?),
    ))
}

fn from_row(row: &PgRow) -> Result<UserRecord, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        bio: row.try_get("bio")?,
        password_hash: row.try_get("password_hash")?,
        recovery_hash: row.try_get("recovery_hash")?,
        deleted: row.try_get::<Option<bool>, _>("deleted")?.unwrap_or(false),
    })
}

const RECORD: &str = "SELECT id, username, display_name, role, bio, password_hash, recovery_hash, \
     deleted_at IS NOT NULL AS deleted FROM users";

pub async fn find_by_username(
    db: &PgPool,
    username: &str,
) -> Result<Option<UserRecord>, StoreError> {
    sqlx::query(&format!(
        "{RECORD} WHERE username = $1 AND deleted_at IS NULL"
    ))
    .bind(username)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn id_by_username(db: &PgPool, username: &str) -> Result<Option<UserId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username.trim().to_lowercase())
        .fetch_optional(db)
        .await?;
    Ok(id.map(UserId))
}

pub async fn find_by_id(db: &PgPool, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    sqlx::query(&format!("{RECORD} WHERE id = $1"))
        .bind(id.0)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn insert(db: &PgPool, user: &NewUser<'_>) -> Result<UserId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, bio, password_hash, recovery_hash) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.username)
    .bind(user.display_name)
    .bind(user.role.as_str())
    .bind(user.bio)
    .bind(user.password_hash)
    .bind(user.recovery_hash)
    .fetch_one(db)
    .await
    .map_err(StoreError::from_insert)?;
    Ok(UserId(id))
}

/// One statement for any number of users: the columns as arrays.
pub async fn insert_many_skipping_existing(
    db: &PgPool,
    users: &[NewUser<'_>],
) -> Result<u64, StoreError> {
    fn column<'a>(users: &[NewUser<'a>], f: fn(&NewUser<'a>) -> &'a str) -> Vec<&'a str> {
        users.iter().map(f).collect()
    }
    let created = sqlx::query(
        "INSERT INTO users (username, display_name, role, bio, password_hash) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) \
         ON CONFLICT (username) DO NOTHING",
    )
    .bind(column(users, |u| u.username))
    .bind(column(users, |u| u.display_name))
    .bind(column(users, |u| u.role.as_str()))
    .bind(column(users, |u| u.bio))
    .bind(column(users, |u| u.password_hash))
    .execute(db)
    .await?
    .rows_affected();
    Ok(created)
}

pub async fn delete_with_conversations(db: &PgPool, user: UserId) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let conversations: Vec<i64> =
        sqlx::query_scalar("SELECT conversation_id FROM conversation_members WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&mut *tx)
            .await?;
    for statement in [
        "DELETE FROM messages WHERE conversation_id = ANY($1)",
        "DELETE FROM direct_conversations WHERE conversation_id = ANY($1)",
        "DELETE FROM conversation_members WHERE conversation_id = ANY($1)",
        "DELETE FROM conversations WHERE id = ANY($1)",
    ] {
        sqlx::query(statement)
            .bind(&conversations)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn psychiatrists(db: &PgPool) -> Result<Vec<Profile>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, display_name, bio FROM users WHERE role = 'psychiatrist' \
         ORDER BY display_name COLLATE \"C\", id",
    )
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Profile {
                id: UserId(row.try_get("id")?),
                display_name: row.try_get("display_name")?,
                role: Role::Psychiatrist,
                bio: row.try_get("bio")?,
            })
        })
        .collect()
}

pub async fn set_last_seen(db: &PgPool, user: UserId, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET last_seen_at = $1 WHERE id = $2")
        .bind(pg_time(at))
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn psychiatrists_last_seen(db: &PgPool) -> Result<Vec<LastSeen>, StoreError> {
    let rows = sqlx::query("SELECT id, last_seen_at FROM users WHERE role = 'psychiatrist'")
        .fetch_all(db)
        .await?;
    rows.iter().map(last_seen_row).collect()
}

pub async fn psychiatrists_offline_since(
    db: &PgPool,
    after: Timestamp,
    limit: i64,
) -> Result<Vec<LastSeen>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, last_seen_at FROM users WHERE role = 'psychiatrist' AND last_seen_at > $1 \
         ORDER BY last_seen_at DESC LIMIT $2",
    )
    .bind(pg_time(after))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(last_seen_row).collect()
}

pub async fn last_seen(db: &PgPool, user: UserId) -> Result<Option<Timestamp>, StoreError> {
    let at: Option<time::OffsetDateTime> =
        sqlx::query_scalar("SELECT last_seen_at FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(db)
            .await?
            .flatten();
    Ok(optional_time(at))
}

pub async fn set_password_hash(db: &PgPool, user: UserId, hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(hash)
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_recovery_hash(db: &PgPool, user: UserId, hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET recovery_hash = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(hash)
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn recover(
    db: &PgPool,
    user: UserId,
    used: &str,
    password_hash: &str,
    next_recovery_hash: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1, recovery_hash = $2 \
         WHERE id = $3 AND recovery_hash = $4 AND deleted_at IS NULL",
    )
    .bind(password_hash)
    .bind(next_recovery_hash)
    .bind(user.0)
    .bind(used)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn erase(db: &PgPool, user: UserId, at: Timestamp) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    // '#' is never valid in a username, so the freed name cannot collide with a real one.
    sqlx::query(
        "UPDATE users SET username = '#deleted-' || id, display_name = $1, bio = '', \
           password_hash = '', recovery_hash = NULL, last_seen_at = NULL, deleted_at = $2 \
         WHERE id = $3",
    )
    .bind(DELETED_NAME)
    .bind(pg_time(at))
    .bind(user.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE messages SET body = '', erased = true WHERE sender_id = $1")
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
