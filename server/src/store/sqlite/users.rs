//! The `users` statements that differ on SQLite (the rest are `store::users`).

use app::protocol::UserId;
use sqlx::SqlitePool;

use crate::store::users::{NewUser, Profile};
use crate::store::StoreError;

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
    let rows = sqlx::query_as(
        "SELECT id, display_name, role, bio FROM users WHERE role = 'psychiatrist' ORDER BY display_name, id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows)
}
