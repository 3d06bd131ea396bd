//! The `users` table: accounts, last-seen times, availability columns aside
//! (`store::availability`).

use super::{dispatch, Db, StoreError};
use app::protocol::{PublicUser, Role, Timestamp, UserId};

/// What others may know of a user: no username, no hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: UserId,
    pub display_name: String,
    pub role: Role,
    pub bio: String,
}

/// A user's id and when they were last connected, if ever.
pub type LastSeen = (UserId, Option<Timestamp>);

/// A user as stored, including the password hash (which never leaves the server).
#[derive(Debug, Clone)]
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

/// Finds an account that may sign in by normalized username (never a deleted one).
pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<UserRecord>, StoreError> {
    dispatch!(db, users::find_by_username(username))
}

/// The id of the account with this sign-in name, deleted ones (`#deleted-<id>`) too: for
/// administrators' commands.
pub async fn id_by_username(db: &Db, username: &str) -> Result<Option<UserId>, StoreError> {
    dispatch!(db, users::id_by_username(username))
}

/// Finds a user by id (a deleted account too: it still names its conversations).
pub async fn find_by_id(db: &Db, id: UserId) -> Result<Option<UserRecord>, StoreError> {
    dispatch!(db, users::find_by_id(id))
}

/// Creates a user; [`StoreError::Conflict`] if the username is taken.
pub async fn insert(db: &Db, user: &NewUser<'_>) -> Result<UserId, StoreError> {
    dispatch!(db, users::insert(user))
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
    dispatch!(db, users::set_last_seen(user, at))
}

/// Every psychiatrist's id and last-seen time (what any student may see).
pub async fn psychiatrists_last_seen(db: &Db) -> Result<Vec<LastSeen>, StoreError> {
    dispatch!(db, users::psychiatrists_last_seen())
}

/// Psychiatrists last seen after `after`, the most recent first, at most `limit`.
pub async fn psychiatrists_offline_since(
    db: &Db,
    after: Timestamp,
    limit: i64,
) -> Result<Vec<LastSeen>, StoreError> {
    dispatch!(db, users::psychiatrists_offline_since(after, limit))
}

/// When a user was last connected, if ever.
pub async fn last_seen(db: &Db, user: UserId) -> Result<Option<Timestamp>, StoreError> {
    dispatch!(db, users::last_seen(user))
}

/// Replaces an account's password hash.
pub async fn set_password_hash(db: &Db, user: UserId, hash: &str) -> Result<(), StoreError> {
    dispatch!(db, users::set_password_hash(user, hash))
}

/// Replaces an account's recovery code hash (a new code made in Settings).
pub async fn set_recovery_hash(db: &Db, user: UserId, hash: &str) -> Result<(), StoreError> {
    dispatch!(db, users::set_recovery_hash(user, hash))
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
    dispatch!(
        db,
        users::recover(user, used, password_hash, next_recovery_hash)
    )
}

/// Deletes a student's account in place (docs/privacy.md): the sign-in name, password, name
/// and last-seen time go, and the bodies of their messages are erased. The row stays so
/// that the psychiatrist's conversation still reads in order, with "Deleted account".
pub async fn erase(db: &Db, user: UserId, at: Timestamp) -> Result<(), StoreError> {
    dispatch!(db, users::erase(user, at))
}
