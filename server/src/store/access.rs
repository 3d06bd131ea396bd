//! The `access_log` table: the append-only record of who opened which conversation's
//! content (the schema's triggers refuse updates and deletions, on both backends).
//!
//! A live connection is one row without a conversation: it receives every conversation of
//! its user, so it counts as an access to each of them from the moment that conversation
//! began. One row per connection, not one per conversation: a psychiatrist with hundreds
//! of conversations no longer writes hundreds of rows at every reconnect.

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
    /// `None`: a live connection, which receives all of the user's conversations.
    pub conversation_id: Option<ConversationId>,
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
    dispatch!(
        db,
        access::record(user, Some(conversation), kind, address, at)
    )
}

/// Records that `user` opened a live connection: it receives every conversation they are a
/// member of, now and while it lasts.
pub async fn record_connection(
    db: &Db,
    user: UserId,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    dispatch!(
        db,
        access::record(user, None, AccessKind::Socket, address, at)
    )
}

/// The newest accesses by anyone else to the conversations `user` is a member of, newest
/// first: to each conversation, and the other members' live connections since it began.
/// A few index walks per conversation, each at most `limit` long.
pub async fn by_others_to_member(
    db: &Db,
    user: UserId,
    limit: u32,
) -> Result<Vec<AccessRow>, StoreError> {
    let mut rows = Vec::new();
    for (conversation, peer, began) in dispatch!(db, access::peers_of(user))? {
        rows.extend(dispatch!(
            db,
            access::newest_to_conversation(conversation, user, limit)
        )?);
        let connections = dispatch!(db, access::newest_connections(peer, began, limit))?;
        rows.extend(connections.into_iter().map(|mut row| {
            row.conversation_id = Some(conversation);
            row
        }));
    }
    rows.sort_by_key(|row| std::cmp::Reverse((row.at, row.id)));
    rows.dedup_by_key(|row| row.id);
    rows.truncate(limit as usize);
    Ok(rows)
}

/// Accesses matching `filter`, oldest first. For a conversation, the members' live
/// connections since it began are listed as accesses to it.
pub async fn audit(db: &Db, filter: &AuditFilter) -> Result<Vec<AccessRow>, StoreError> {
    let since = filter.since.unwrap_or(Timestamp::from_millis(0));
    let mut rows = match (filter.conversation, filter.user) {
        (Some(conversation), user) => {
            let mut rows = dispatch!(db, access::to_conversation(conversation, since))?;
            for (member, began) in dispatch!(db, access::members_of(conversation))? {
                if user.is_some_and(|u| u != member) {
                    continue;
                }
                let from = Timestamp::from_millis(since.as_millis().max(began.as_millis()));
                let connections = dispatch!(db, access::by_user(member, from, true))?;
                rows.extend(connections.into_iter().map(|mut row| {
                    row.conversation_id = Some(conversation);
                    row
                }));
            }
            rows.retain(|row| user.is_none_or(|u| row.user_id == Some(u)));
            rows
        }
        (None, Some(user)) => dispatch!(db, access::by_user(user, since, false))?,
        (None, None) => dispatch!(db, access::since(since))?,
    };
    rows.sort_by_key(|row| (row.at, row.id));
    Ok(rows)
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
