//! The retention rule (docs/privacy.md), applied by `haven purge`: messages older than the
//! service's retention period are deleted; a deleted account's conversation goes once it
//! has no message left, and the account with its last conversation. The access record is
//! kept (append-only).

use app::protocol::Timestamp;

use super::{dispatch, Db, StoreError};

/// What a purge deleted (or, dry, would delete).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub messages: u64,
    pub conversations: u64,
    pub accounts: u64,
}

/// Conversations of a deleted account with no message left (the same SQL on both
/// backends): walked from the deleted accounts, which an index keeps apart.
pub(super) const EMPTY_OF_DELETED: &str = "SELECT DISTINCT cm.conversation_id FROM users u \
    JOIN conversation_members cm ON cm.user_id = u.id \
    WHERE u.deleted_at IS NOT NULL \
      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = cm.conversation_id)";

/// Deleted accounts with no conversation and no message left.
pub(super) const DELETE_EMPTY_ACCOUNTS: &str = "DELETE FROM users WHERE deleted_at IS NOT NULL \
    AND NOT EXISTS (SELECT 1 FROM conversation_members WHERE user_id = users.id) \
    AND NOT EXISTS (SELECT 1 FROM messages WHERE sender_id = users.id)";

/// Deletes what the rule says for messages stored before `cutoff`, in one transaction;
/// with `dry_run`, only counts (the transaction is rolled back).
pub async fn purge(db: &Db, cutoff: Timestamp, dry_run: bool) -> Result<Purged, StoreError> {
    dispatch!(db, retention::purge(cutoff, dry_run))
}
