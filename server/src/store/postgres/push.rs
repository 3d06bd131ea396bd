//! Web Push subscriptions joined with `tower_sessions.session` on PostgreSQL.

use app::protocol::{Timestamp, UserId};
use sqlx::postgres::PgPool;

use crate::store::push::SubscriptionRow;
use crate::store::StoreError;

pub async fn of_users(
    db: &PgPool,
    users: &[UserId],
    now: Timestamp,
) -> Result<Vec<SubscriptionRow>, StoreError> {
    let users: Vec<i64> = users.iter().map(|u| u.0).collect();
    Ok(sqlx::query_as(
        "SELECT s.id, s.user_id, s.endpoint, s.p256dh, s.auth, s.words, s.after_hours,
                (t.id IS NOT NULL AND t.expiry_date > now() AND s.session_ends_at > $2) AS live
         FROM push_subscriptions s LEFT JOIN tower_sessions.session t ON t.id = s.session_id
         WHERE s.user_id = ANY($1)",
    )
    .bind(users)
    .bind(now)
    .fetch_all(db)
    .await?)
}

pub async fn forget_sessions(db: &PgPool, ids: &[String]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM push_subscriptions WHERE session_id = ANY($1)")
        .bind(ids)
        .execute(db)
        .await?;
    Ok(())
}
