//! The `users` table: accounts, last-seen times, availability columns aside
//! (`store::availability`).

//!
//! Most statements are the same on both backends and live here; `sqlite/users.rs` and
//! `postgres/users.rs` keep the ones that differ (bulk inserts, deleting by a list of ids,
//! the directory's byte-order sort).

use super::{dispatch, on_either, Db, StoreError};
use app::protocol::{PublicUser, Role, Timestamp, UserId};

/// What others may know of a user: no username, no hash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Profile {
    pub id: UserId,
    pub display_name: String,
    pub role: Role,
    pub bio: String,
}

/// A user's id and when they were last connected, if ever.
pub type LastSeen = (UserId, Option<Timestamp>);

/// A user as stored, including the password hash (which never leaves the server).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub bio: String,
    pub password_hash: String,
    /// The hash of the account's recovery code, if it has one.
    pub recovery_hash: Option<String>,
    /// The account was deleted: it cannot sign in and shows as "Deleted account".
    pub deleted: bool,
}

impl UserRecord {
    /// The part of the record that may be shown to the user and the UI.
    pub fn public(&self) -> PublicUser {
        PublicUser {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
        }
    }
}

/// A user to create. `username` must already be normalized.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub bio: &'a str,
    pub password_hash: &'a str,
    /// The hash of the recovery code shown at registration (none for bulk inserts).
    pub recovery_hash: Option<&'a str>,
}

/// What a deleted account is called wherever it still appears.
pub const DELETED_NAME: &str = "Deleted account";

/// The columns of a [`UserRecord`].
const RECORD: &str = "SELECT id, username, display_name, role, bio, password_hash, recovery_hash, \
     deleted_at IS NOT NULL AS deleted FROM users";

/// Finds an account that may sign in by normalized username (never a deleted one).
pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("{RECORD} WHERE username = $1 AND deleted_at IS NULL");
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(username)
        .fetch_optional(pool)
        .await?))
}

/// The id of the account with this sign-in name, deleted ones (`#deleted-<id>`) too: for
/// administrators' commands.
pub async fn id_by_username(db: &Db, username: &str) -> Result<Option<UserId>, StoreError> {
    let username = username.trim().to_lowercase();
    on_either!(db, |pool| Ok(sqlx::query_scalar(
        "SELECT id FROM users WHERE username = $1"
    )
    .bind(&username)
    .fetch_optional(pool)
    .await?))
}

/// Finds a user by id (a deleted account too: it still names its conversations).
pub async fn find_by_id(db: &Db, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("{RECORD} WHERE id = $1");
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?))
}

/// Creates a user; [`StoreError::Conflict`] if the username is taken.
pub async fn insert(db: &Db, user: &NewUser<'_>) -> Result<UserId, StoreError> {
    on_either!(db, |pool| sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, bio, password_hash, recovery_hash) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(user.username)
    .bind(user.display_name)
    .bind(user.role)
    .bind(user.bio)
    .bind(user.password_hash)
    .bind(user.recovery_hash)
    .fetch_one(pool)
    .await
    .map_err(StoreError::from_insert))
}

/// Creates many users in one transaction, skipping usernames that exist. Answers how many
/// were created.
pub async fn insert_many_skipping_existing(
    db: &Db,
    users: &[NewUser<'_>],
) -> Result<u64, StoreError> {
    dispatch!(db, users::insert_many_skipping_existing(users))
}

/// Deletes a user with every conversation they are in (its messages and both members'
/// markers). For removing demo accounts: a conversation with an account whose password is
/// published is not private.
pub async fn delete_with_conversations(db: &Db, user: UserId) -> Result<(), StoreError> {
    dispatch!(db, users::delete_with_conversations(user))
}

/// Every psychiatrist, for the students' directory, by display name.
pub async fn psychiatrists(db: &Db) -> Result<Vec<Profile>, StoreError> {
    dispatch!(db, users::psychiatrists())
}

/// Records when a user was last connected.
pub async fn set_last_seen(db: &Db, user: UserId, at: Timestamp) -> Result<(), StoreError> {
    on_either!(db, |pool| sqlx::query(
        "UPDATE users SET last_seen_at = $1 WHERE id = $2"
    )
    .bind(at)
    .bind(user)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// Every psychiatrist's id and last-seen time (what any student may see).
pub async fn psychiatrists_last_seen(db: &Db) -> Result<Vec<LastSeen>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_as(
        "SELECT id, last_seen_at FROM users WHERE role = 'psychiatrist'"
    )
    .fetch_all(pool)
    .await?))
}

/// Psychiatrists last seen after `after`, the most recent first, at most `limit`. (SQLite's
/// times are fixed-width text, so its text comparison is the time comparison.)
pub async fn psychiatrists_offline_since(
    db: &Db,
    after: Timestamp,
    limit: i64,
) -> Result<Vec<LastSeen>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_as(
        "SELECT id, last_seen_at FROM users WHERE role = 'psychiatrist' AND last_seen_at > $1 \
         ORDER BY last_seen_at DESC LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?))
}

/// When a user was last connected, if ever.
pub async fn last_seen(db: &Db, user: UserId) -> Result<Option<Timestamp>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_scalar::<_, Option<Timestamp>>(
        "SELECT last_seen_at FROM users WHERE id = $1"
    )
    .bind(user)
    .fetch_optional(pool)
    .await?
    .flatten()))
}

/// Replaces an account's password hash.
pub async fn set_password_hash(db: &Db, user: UserId, hash: &str) -> Result<(), StoreError> {
    let sql = "UPDATE users SET password_hash = $1 WHERE id = $2 AND deleted_at IS NULL";
    set_hash(db, sql, user, hash).await
}

/// Replaces an account's recovery code hash (a new code made in Settings).
pub async fn set_recovery_hash(db: &Db, user: UserId, hash: &str) -> Result<(), StoreError> {
    let sql = "UPDATE users SET recovery_hash = $1 WHERE id = $2 AND deleted_at IS NULL";
    set_hash(db, sql, user, hash).await
}

/// Runs one of the two hash updates above.
async fn set_hash(db: &Db, sql: &str, user: UserId, hash: &str) -> Result<(), StoreError> {
    on_either!(db, |pool| sqlx::query(sql)
        .bind(hash)
        .bind(user)
        .execute(pool)
        .await
        .map(drop)?);
    Ok(())
}

/// Spends a recovery code: sets a new password and the next code's hash, but only if the
/// account's code is still `used` (the hash that was just verified). Answers whether it
/// was, so that two requests racing with one code cannot both succeed.
pub async fn recover(
    db: &Db,
    user: UserId,
    used: &str,
    password_hash: &str,
    next_recovery_hash: &str,
) -> Result<bool, StoreError> {
    let done = on_either!(db, |pool| sqlx::query(
        "UPDATE users SET password_hash = $1, recovery_hash = $2 \
         WHERE id = $3 AND recovery_hash = $4 AND deleted_at IS NULL",
    )
    .bind(password_hash)
    .bind(next_recovery_hash)
    .bind(user)
    .bind(used)
    .execute(pool)
    .await
    .map(|done| done.rows_affected())?);
    Ok(done == 1)
}

/// Deletes a student's account in place (docs/privacy.md): the sign-in name, password, name
/// and last-seen time go, and the bodies of their messages are erased. The row stays so
/// that the psychiatrist's conversation still reads in order, with "Deleted account".
pub async fn erase(db: &Db, user: UserId, at: Timestamp) -> Result<(), StoreError> {
    on_either!(db, |pool| {
        let mut tx = pool.begin().await?;
        // '#' is never valid in a username, so the freed name cannot collide with a real one.
        sqlx::query(
            "UPDATE users SET username = '#deleted-' || id, display_name = $1, bio = '', \
               password_hash = '', recovery_hash = NULL, last_seen_at = NULL, deleted_at = $2 \
             WHERE id = $3",
        )
        .bind(DELETED_NAME)
        .bind(at)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE messages SET body = '', erased = TRUE WHERE sender_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for statement in super::groups::ERASE_PERSON {
            sqlx::query(statement).bind(user).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    });
    Ok(())
}
