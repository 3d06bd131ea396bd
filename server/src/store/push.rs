//! Web Push: the service's VAPID key, the devices that asked for notifications (each tied to
//! the session it asked in), and the one-push-per-conversation-until-read mark.

use app::protocol::{ConversationId, MessageId, Timestamp, UserId};

use super::{dispatch, on_either, Db, StoreError};

/// The stored VAPID private key (base64url), if one was made.
pub async fn vapid_key(db: &Db) -> Result<Option<String>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_scalar(
        "SELECT private_key FROM push_keys WHERE id = 1"
    )
    .fetch_optional(pool)
    .await?))
}

/// Stores `key` unless another node stored one first; answers the key every node uses.
pub async fn keep_vapid_key(db: &Db, key: &str, at: Timestamp) -> Result<String, StoreError> {
    on_either!(db, |pool| {
        sqlx::query(
            "INSERT INTO push_keys (id, private_key, created_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(key)
        .bind(at)
        .execute(pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT private_key FROM push_keys WHERE id = 1")
                .fetch_one(pool)
                .await?,
        )
    })
}

/// A device's subscription, as the browser gave it, with its owner's choices.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub user: UserId,
    pub session_id: &'a str,
    pub session_ends_at: Timestamp,
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
    /// `private` or `names`.
    pub words: &'a str,
    pub after_hours: bool,
    pub at: Timestamp,
}

/// Stores a subscription. The same endpoint again (a new choice, or another person signing
/// in on the device) replaces the old row: an endpoint reaches one browser profile.
pub async fn subscribe(db: &Db, s: NewSubscription<'_>) -> Result<(), StoreError> {
    on_either!(db, |pool| {
        sqlx::query(
            "INSERT INTO push_subscriptions
                 (user_id, session_id, session_ends_at, endpoint, p256dh, auth, words,
                  after_hours, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (endpoint) DO UPDATE SET
                 user_id = excluded.user_id, session_id = excluded.session_id,
                 session_ends_at = excluded.session_ends_at, p256dh = excluded.p256dh,
                 auth = excluded.auth, words = excluded.words,
                 after_hours = excluded.after_hours, created_at = excluded.created_at,
                 last_success_at = NULL",
        )
        .bind(s.user)
        .bind(s.session_id)
        .bind(s.session_ends_at)
        .bind(s.endpoint)
        .bind(s.p256dh)
        .bind(s.auth)
        .bind(s.words)
        .bind(s.after_hours)
        .bind(s.at)
        .execute(pool)
        .await?;
        Ok(())
    })
}

/// Removes this session's subscription at `endpoint` (the device turned notifications off).
pub async fn unsubscribe(db: &Db, session_id: &str, endpoint: &str) -> Result<(), StoreError> {
    on_either!(db, |pool| {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND session_id = $2")
            .bind(endpoint)
            .bind(session_id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Removes every subscription of these sessions (they ended).
pub async fn forget_sessions(db: &Db, session_ids: &[String]) -> Result<(), StoreError> {
    if session_ids.is_empty() {
        return Ok(());
    }
    dispatch!(db, push::forget_sessions(session_ids))
}

/// Removes every subscription of `user` (every session of theirs ended, or the account).
pub async fn forget_user(db: &Db, user: UserId) -> Result<(), StoreError> {
    on_either!(db, |pool| {
        sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1")
            .bind(user)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// One of a user's subscriptions, and whether its session is still alive.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub words: String,
    pub after_hours: bool,
    /// The session exists, has not expired and has not outlived its absolute end.
    pub live: bool,
}

/// Every subscription of these users, each with whether its session is alive `now`: one
/// indexed query for all the readers of a message (most have none).
pub async fn of_users(
    db: &Db,
    users: &[UserId],
    now: Timestamp,
) -> Result<Vec<SubscriptionRow>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    dispatch!(db, push::of_users(users, now))
}

/// Removes one subscription (its session ended, or the push service said it is gone).
pub async fn remove(db: &Db, id: i64) -> Result<(), StoreError> {
    on_either!(db, |pool| {
        sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Records a delivered push.
pub async fn succeeded(db: &Db, id: i64, at: Timestamp) -> Result<(), StoreError> {
    on_either!(db, |pool| {
        sqlx::query("UPDATE push_subscriptions SET last_success_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Claims the push for `message` to `user`: `true` for exactly one caller, and only while
/// the message is unread and no push since their last read was sent. Atomic, so two nodes
/// (or two messages at once) cannot both push.
pub async fn claim(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
    message: MessageId,
) -> Result<bool, StoreError> {
    on_either!(db, |pool| {
        let done = sqlx::query(
            "UPDATE conversation_members SET pushed_through_id = $3
             WHERE conversation_id = $1 AND user_id = $2
               AND pushed_through_id <= last_read_id AND last_read_id < $3",
        )
        .bind(conversation)
        .bind(user)
        .bind(message)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}
