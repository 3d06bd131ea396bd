//! Web Push subscriptions joined with `tower_sessions` on SQLite (its times are text,
//! compared through `julianday()`).

use app::protocol::{Timestamp, UserId};
use sqlx::SqlitePool;

use crate::store::push::SubscriptionRow;
use crate::store::StoreError;

pub async fn of_users(
    db: &SqlitePool,
    users: &[UserId],
    now: Timestamp,
) -> Result<Vec<SubscriptionRow>, StoreError> {
    let users = serde_json::to_string(users).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(sqlx::query_as(
        "SELECT s.id, s.user_id, s.endpoint, s.p256dh, s.auth, s.words, s.after_hours,
                (t.id IS NOT NULL AND julianday(t.expiry_date) > julianday('now')
                 AND s.session_ends_at > ?2) AS live
         FROM push_subscriptions s LEFT JOIN tower_sessions t ON t.id = s.session_id
         WHERE s.user_id IN (SELECT value FROM json_each(?1))",
    )
    .bind(users)
    .bind(now)
    .fetch_all(db)
    .await?)
}

pub async fn forget_sessions(db: &SqlitePool, ids: &[String]) -> Result<(), StoreError> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "DELETE FROM push_subscriptions WHERE session_id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids)
    .execute(db)
    .await?;
    Ok(())
}
