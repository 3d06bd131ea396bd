//! The `access_log` table: the append-only record of who opened which conversation's
//! content (the schema's triggers refuse updates and deletions, on both backends).

use std::net::IpAddr;

use app::protocol::{AccessKind, ConversationId, Role, Timestamp, UserId};

use super::{dispatch, Db, StoreError};

/// One access, with who it was as the users table names them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub id: i64,
    pub at: Timestamp,
    /// `None`: an administrator on the command line.
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub conversation_id: ConversationId,
    pub kind: AccessKind,
    pub address: Option<String>,
}

/// Which accesses `haven audit` lists.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub conversation: Option<ConversationId>,
    pub user: Option<UserId>,
    pub since: Option<Timestamp>,
}

/// Records that `user` opened one conversation's content.
pub async fn record(
    db: &Db,
    user: UserId,
    conversation: ConversationId,
    kind: AccessKind,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    dispatch!(db, access::record(user, conversation, kind, address, at))
}

/// Records that `user` opened every conversation they are a member of (a live connection
/// receives all of them), in one statement.
pub async fn record_all_of_member(
    db: &Db,
    user: UserId,
    kind: AccessKind,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    dispatch!(db, access::record_all_of_member(user, kind, address, at))
}

/// The newest accesses by anyone else to the conversations `user` is a member of.
pub async fn by_others_to_member(
    db: &Db,
    user: UserId,
    limit: u32,
) -> Result<Vec<AccessRow>, StoreError> {
    dispatch!(db, access::by_others_to_member(user, limit))
}

/// Accesses matching `filter`, oldest first.
pub async fn audit(db: &Db, filter: &AuditFilter) -> Result<Vec<AccessRow>, StoreError> {
    dispatch!(db, access::audit(filter))
}

/// Reads a stored role and action (the same text on both backends).
pub(super) fn parse_role_and_kind(
    role: Option<String>,
    action: &str,
) -> Result<(Option<Role>, AccessKind), StoreError> {
    let role = role
        .map(|r| Role::parse(&r).ok_or_else(|| StoreError::Corrupt(format!("role {r:?}"))))
        .transpose()?;
    let kind = AccessKind::parse(action)
        .ok_or_else(|| StoreError::Corrupt(format!("access action {action:?}")))?;
    Ok((role, kind))
}
