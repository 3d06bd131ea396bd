//! The `users` table on SQLite.

use app::protocol::{Role, Timestamp, UserId};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::optional_time;
use crate::store::users::{LastSeen, NewUser, Profile, UserRecord, DELETED_NAME};
use crate::store::StoreError;

pub(super) fn last_seen_row(row: &SqliteRow) -> Result<LastSeen, StoreError> {
    Ok((
        UserId(row.try_get("id")?),
        optional_time(row.try_get("last_seen_at")?)?,
    ))
}

fn from_row(row: &SqliteRow) -> Result<UserRecord, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        bio: row.try_get("bio")?,
        password_hash: row.try_get("password_hash")?,
        recovery_hash: row.try_get("recovery_hash")?,
        deleted: row.try_get::<Option<String>, _>("deleted_at")?.is_some(),
    })
}

const RECORD: &str =
    "SELECT id, username, display_name, role, bio, password_hash, recovery_hash, deleted_at FROM users";

/// Finds an account that may sign in by normalized username (never a deleted one).
pub async fn find_by_username(
    db: &SqlitePool,
    username: &str,
) -> Result<Option<UserRecord>, StoreError> {
    sqlx::query(&format!(
        "{RECORD} WHERE username = ? AND deleted_at IS NULL"
    ))
    .bind(username)
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The id of the account with this sign-in name, deleted ones (`#deleted-<id>`) too: for
/// administrators' commands.
pub async fn id_by_username(db: &SqlitePool, username: &str) -> Result<Option<UserId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
        .bind(username.trim().to_lowercase())
        .fetch_optional(db)
        .await?;
    Ok(id.map(UserId))
}

/// Finds a user by id (a deleted account too: it still names its conversations).
pub async fn find_by_id(db: &SqlitePool, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    sqlx::query(&format!("{RECORD} WHERE id = ?"))
        .bind(id.0)
        .fetch_optional(db)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Creates a user; [`StoreError::Conflict`] if the username is taken.
pub async fn insert(db: &SqlitePool, user: &NewUser<'_>) -> Result<UserId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, bio, password_hash, recovery_hash) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
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

/// Creates many users in one transaction, skipping usernames that exist. Answers how many
/// were created.
pub async fn insert_many_skipping_existing(
    db: &SqlitePool,
    users: &[NewUser<'_>],
) -> Result<u64, StoreError> {
    // 5 bound values a row; SQLite allows 32766 variables a statement.
    const ROWS_PER_STATEMENT: usize = 1000;
    let mut tx = db.begin().await?;
    let mut created = 0;
    for chunk in users.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT OR IGNORE INTO users (username, display_name, role, bio, password_hash) VALUES ",
        );
        sql.push_str(&vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", "));
        let mut query = sqlx::query(&sql);
        for user in chunk {
            query = query
                .bind(user.username)
                .bind(user.display_name)
                .bind(user.role.as_str())
                .bind(user.bio)
                .bind(user.password_hash);
        }
        created += query.execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(created)
}

/// Deletes a user with every conversation they are in (its messages and both members'
/// markers). For removing demo accounts: a conversation with an account whose password is
/// published is not private.
pub async fn delete_with_conversations(db: &SqlitePool, user: UserId) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let conversations: Vec<i64> =
        sqlx::query_scalar("SELECT conversation_id FROM conversation_members WHERE user_id = ?")
            .bind(user.0)
            .fetch_all(&mut *tx)
            .await?;
    let ids =
        serde_json::to_string(&conversations).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    for statement in [
        "DELETE FROM messages WHERE conversation_id IN (SELECT value FROM json_each(?))",
        "DELETE FROM direct_conversations WHERE conversation_id IN (SELECT value FROM json_each(?))",
        "DELETE FROM conversation_members WHERE conversation_id IN (SELECT value FROM json_each(?))",
        "DELETE FROM conversations WHERE id IN (SELECT value FROM json_each(?))",
    ] {
        sqlx::query(statement).bind(&ids).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM users WHERE id = ?")
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Every psychiatrist, for the students' directory, by display name.
pub async fn psychiatrists(db: &SqlitePool) -> Result<Vec<Profile>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, display_name, bio FROM users WHERE role = 'psychiatrist' ORDER BY display_name, id",
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

/// Records when a user was last connected.
pub async fn set_last_seen(db: &SqlitePool, user: UserId, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET last_seen_at = ? WHERE id = ?")
        .bind(at.to_string())
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(())
}

/// Every psychiatrist's id and last-seen time (what any student may see).
pub async fn psychiatrists_last_seen(db: &SqlitePool) -> Result<Vec<LastSeen>, StoreError> {
    let rows = sqlx::query("SELECT id, last_seen_at FROM users WHERE role = 'psychiatrist'")
        .fetch_all(db)
        .await?;
    rows.iter().map(last_seen_row).collect()
}

/// Psychiatrists last seen after `after`, the most recent first, at most `limit`. Stored
/// times have one fixed width, so the text comparison is the time comparison.
pub async fn psychiatrists_offline_since(
    db: &SqlitePool,
    after: Timestamp,
    limit: i64,
) -> Result<Vec<LastSeen>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, last_seen_at FROM users WHERE role = 'psychiatrist' AND last_seen_at > ? \
         ORDER BY last_seen_at DESC LIMIT ?",
    )
    .bind(after.to_string())
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(last_seen_row).collect()
}

/// When a user was last connected, if ever.
pub async fn last_seen(db: &SqlitePool, user: UserId) -> Result<Option<Timestamp>, StoreError> {
    let text: Option<String> = sqlx::query_scalar("SELECT last_seen_at FROM users WHERE id = ?")
        .bind(user.0)
        .fetch_optional(db)
        .await?
        .flatten();
    optional_time(text)
}

/// Replaces an account's password hash.
pub async fn set_password_hash(
    db: &SqlitePool,
    user: UserId,
    hash: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ? AND deleted_at IS NULL")
        .bind(hash)
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(())
}

/// Replaces an account's recovery code hash (a new code made in Settings).
pub async fn set_recovery_hash(
    db: &SqlitePool,
    user: UserId,
    hash: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET recovery_hash = ? WHERE id = ? AND deleted_at IS NULL")
        .bind(hash)
        .bind(user.0)
        .execute(db)
        .await?;
    Ok(())
}

/// Spends a recovery code: sets a new password and the next code's hash, but only if the
/// account's code is still `used` (the hash that was just verified). Answers whether it
/// was, so that two requests racing with one code cannot both succeed.
pub async fn recover(
    db: &SqlitePool,
    user: UserId,
    used: &str,
    password_hash: &str,
    next_recovery_hash: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = ?, recovery_hash = ? \
         WHERE id = ? AND recovery_hash = ? AND deleted_at IS NULL",
    )
    .bind(password_hash)
    .bind(next_recovery_hash)
    .bind(user.0)
    .bind(used)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a student's account in place (docs/privacy.md): the sign-in name, password, name
/// and last-seen time go, and the bodies of their messages are erased. The row stays so
/// that the psychiatrist's conversation still reads in order, with "Deleted account".
pub async fn erase(db: &SqlitePool, user: UserId, at: Timestamp) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    // '#' is never valid in a username, so the freed name cannot collide with a real one.
    sqlx::query(
        "UPDATE users SET username = '#deleted-' || id, display_name = ?, bio = '', \
           password_hash = '', recovery_hash = NULL, last_seen_at = NULL, deleted_at = ? \
           WHERE id = ?",
    )
    .bind(DELETED_NAME)
    .bind(at.to_string())
    .bind(user.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE messages SET body = '', erased = 1 WHERE sender_id = ?")
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
