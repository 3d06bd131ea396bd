//! The `users` statements that differ on PostgreSQL (the rest are `store::users`).

use app::protocol::UserId;
use sqlx::PgPool;

use crate::store::users::{NewUser, Profile};
use crate::store::StoreError;

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
    let rows = sqlx::query_as(
        "SELECT id, display_name, role, bio FROM users WHERE role = 'psychiatrist' \
         ORDER BY display_name COLLATE \"C\", id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}
