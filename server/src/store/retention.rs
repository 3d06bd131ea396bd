//! The retention rule (docs/privacy.md), applied by `haven purge`: messages older than the
//! service's retention period are deleted; a deleted account's conversation goes once it
//! has no message left, and the account with its last conversation. The access record is
//! kept (append-only).

use app::protocol::Timestamp;

use app::protocol::ConversationId;

use super::{on_either, Db, StoreError};

/// What a purge deleted (or, dry, would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub messages: u64,
    pub conversations: u64,
    pub accounts: u64,
}

/// Conversations of a deleted account with no message left (the same SQL on both
/// backends): walked from the deleted accounts, which an index keeps apart.
const EMPTY_OF_DELETED: &str = "SELECT DISTINCT cm.conversation_id FROM users u \
    JOIN conversation_members cm ON cm.user_id = u.id \
    WHERE u.deleted_at IS NOT NULL \
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = cm.conversation_id)";

/// Deleted accounts with no conversation and no message left, and in no group's list of
/// people (a group's lines about them still name them "Deleted account").
const DELETE_EMPTY_ACCOUNTS: &str = "DELETE FROM users WHERE deleted_at IS NOT NULL \
    AND NOT EXISTS (SELECT 1 FROM conversation_members WHERE user_id = users.id) \
    AND NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = users.id) \
    AND NOT EXISTS (SELECT 1 FROM group_people WHERE user_id = users.id)";

/// Deletes what the rule says for messages stored before `cutoff`, in one transaction;
/// with `dry_run`, only counts (the transaction is rolled back).
pub async fn purge(db: &Db, cutoff: Timestamp, dry_run: bool) -> Result<Purged, StoreError> {
    on_either!(db, |pool| {
        let mut tx = pool.begin().await?;
        // (SQLite's times are fixed-width text: text order is time order.)
        // plan: scans messages (haven purge, an administrator's batch job, reads it once)
        let messages = sqlx::query("DELETE FROM messages WHERE created_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let empty: Vec<ConversationId> = sqlx::query_scalar(EMPTY_OF_DELETED)
            .fetch_all(&mut *tx)
            .await?;
        // A batch job over a few conversations: one statement per id is clear and cheap.
        for conversation in &empty {
            for statement in [
                "DELETE FROM direct_conversations WHERE conversation_id = $1",
                "DELETE FROM conversation_members WHERE conversation_id = $1",
                "DELETE FROM conversations WHERE id = $1",
            ] {
                sqlx::query(statement)
                    .bind(conversation)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let accounts = sqlx::query(DELETE_EMPTY_ACCOUNTS)
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
    })
}
