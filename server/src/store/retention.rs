//! The retention rule (docs/privacy.md), applied by `haven purge`: messages older than the
//! service's retention period are deleted; a deleted account's conversation goes once it
//! has no message left, and the account with its last conversation. The access record is
//! kept (append-only).

use app::protocol::Timestamp;

use super::{Db, StoreError};

/// What a purge deleted (or, dry, would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub messages: u64,
    pub conversations: u64,
    pub accounts: u64,
}

/// Conversations of a deleted account with no message left.
const EMPTY_OF_DELETED: &str = "SELECT c.id FROM conversations c \
    WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id) \
      AND EXISTS (SELECT 1 FROM conversation_members cm JOIN users u ON u.id = cm.user_id \
                  WHERE cm.conversation_id = c.id AND u.deleted_at IS NOT NULL)";

/// Deletes what the rule says for messages stored before `cutoff`, in one transaction;
/// with `dry_run`, only counts (the transaction is rolled back).
pub async fn purge(db: &Db, cutoff: Timestamp, dry_run: bool) -> Result<Purged, StoreError> {
    let mut tx = db.begin().await?;
    // Times are stored at fixed precision, so text order is time order.
    let messages = sqlx::query("DELETE FROM messages WHERE created_at < ?")
        .bind(cutoff.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let empty: Vec<i64> = sqlx::query_scalar(EMPTY_OF_DELETED)
        .fetch_all(&mut *tx)
        .await?;
    let ids = serde_json::to_string(&empty).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    for statement in [
        "DELETE FROM direct_conversations WHERE conversation_id IN (SELECT value FROM json_each(?))",
        "DELETE FROM conversation_members WHERE conversation_id IN (SELECT value FROM json_each(?))",
        "DELETE FROM conversations WHERE id IN (SELECT value FROM json_each(?))",
    ] {
        sqlx::query(statement).bind(&ids).execute(&mut *tx).await?;
    }
    let accounts = sqlx::query(
        "DELETE FROM users WHERE deleted_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM conversation_members WHERE user_id = users.id) \
           AND NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = users.id)",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let purged = Purged {
        messages,
        conversations: empty.len() as u64,
        accounts,
    };
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(purged)
}
