//! The `access_log` table: the append-only record of who opened which conversation's
//! content (the schema's triggers refuse updates and deletions, on both backends).
//!
//! A live connection is one row without a conversation: it receives every conversation of
//! its user, so it counts as an access to each of them from the moment that conversation
//! began. One row per connection, not one per conversation: a psychiatrist with hundreds
//! of conversations no longer writes hundreds of rows at every reconnect.

use std::net::IpAddr;

use app::protocol::{AccessKind, ConversationId, Role, Timestamp, UserId};

use super::{address, on_either, Db, StoreError};

/// One access, with who it was as the users table names them now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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
    #[sqlx(rename = "action")]
    pub kind: AccessKind,
    #[sqlx(try_from = "address::Read")]
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
    append(db, user, Some(conversation), kind, address, at).await
}

/// Records that `user` opened a live connection: it receives every conversation they are a
/// member of, now and while it lasts.
pub async fn record_connection(
    db: &Db,
    user: UserId,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    append(db, user, None, AccessKind::Socket, address, at).await
}

/// Appends one access; `conversation` is `None` for a live connection.
async fn append(
    db: &Db,
    user: UserId,
    conversation: Option<ConversationId>,
    kind: AccessKind,
    address: Option<IpAddr>,
    at: Timestamp,
) -> Result<(), StoreError> {
    on_either!(db, |pool| sqlx::query(
        "INSERT INTO access_log (at, user_id, conversation_id, action, address) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(user)
    .bind(conversation)
    .bind(kind)
    .bind(address.map(address::Stored))
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
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
    for (conversation, peer, began) in peers_of(db, user).await? {
        rows.extend(newest_to_conversation(db, conversation, user, limit).await?);
        let connections = newest_connections(db, peer, began, limit).await?;
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
            let mut rows = to_conversation(db, conversation, since).await?;
            for (member, began) in members_of(db, conversation).await? {
                if user.is_some_and(|u| u != member) {
                    continue;
                }
                let from = Timestamp::from_millis(since.as_millis().max(began.as_millis()));
                let connections = by_user(db, member, from, true).await?;
                rows.extend(connections.into_iter().map(|mut row| {
                    row.conversation_id = Some(conversation);
                    row
                }));
            }
            rows.retain(|row| user.is_none_or(|u| row.user_id == Some(u)));
            rows
        }
        (None, Some(user)) => by_user(db, user, since, false).await?,
        (None, None) => all_since(db, since).await?,
    };
    rows.sort_by_key(|row| (row.at, row.id));
    Ok(rows)
}

/// The conversations of `user`: each with its other member and when it began.
async fn peers_of(
    db: &Db,
    user: UserId,
) -> Result<Vec<(ConversationId, UserId, Timestamp)>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_as(
        "SELECT me.conversation_id, other.user_id, c.created_at AS began \
         FROM conversation_members me \
         JOIN conversation_members other \
           ON other.conversation_id = me.conversation_id AND other.user_id <> me.user_id \
         JOIN conversations c ON c.id = me.conversation_id \
         JOIN direct_conversations d ON d.conversation_id = me.conversation_id \
         WHERE me.user_id = $1",
    )
    .bind(user)
    .fetch_all(pool)
    .await?))
}

/// The members of a conversation, with when it began.
async fn members_of(
    db: &Db,
    conversation: ConversationId,
) -> Result<Vec<(UserId, Timestamp)>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_as(
        "SELECT m.user_id, c.created_at AS began FROM conversation_members m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = $1",
    )
    .bind(conversation)
    .fetch_all(pool)
    .await?))
}

/// The columns of an [`AccessRow`].
const SELECT: &str = "SELECT a.id, a.at, a.user_id, u.username, u.display_name, u.role, \
        a.conversation_id, a.action, a.address \
        FROM access_log a LEFT JOIN users u ON u.id = a.user_id";

/// The newest accesses to one conversation by anyone but `except`.
async fn newest_to_conversation(
    db: &Db,
    conversation: ConversationId,
    except: UserId,
    limit: u32,
) -> Result<Vec<AccessRow>, StoreError> {
    let sql = format!(
        "{SELECT} WHERE a.conversation_id = $1 AND a.user_id IS DISTINCT FROM $2 \
         ORDER BY a.at DESC LIMIT $3"
    );
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(conversation)
        .bind(except)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?))
}

/// The newest live connections of `user` since `since`.
async fn newest_connections(
    db: &Db,
    user: UserId,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<AccessRow>, StoreError> {
    let sql = format!(
        "{SELECT} WHERE a.user_id = $1 AND a.conversation_id IS NULL AND a.at >= $2 \
         ORDER BY a.at DESC LIMIT $3"
    );
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(user)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?))
}

/// Every access to one conversation since `since`, oldest first.
async fn to_conversation(
    db: &Db,
    conversation: ConversationId,
    since: Timestamp,
) -> Result<Vec<AccessRow>, StoreError> {
    let sql = format!("{SELECT} WHERE a.conversation_id = $1 AND a.at >= $2 ORDER BY a.at");
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(conversation)
        .bind(since)
        .fetch_all(pool)
        .await?))
}

/// Every access by `user` since `since` (with `connections_only`, their live connections),
/// oldest first.
async fn by_user(
    db: &Db,
    user: UserId,
    since: Timestamp,
    connections_only: bool,
) -> Result<Vec<AccessRow>, StoreError> {
    let sql = if connections_only {
        format!(
            "{SELECT} WHERE a.user_id = $1 AND a.conversation_id IS NULL AND a.at >= $2 \
             ORDER BY a.at"
        )
    } else {
        format!("{SELECT} WHERE a.user_id = $1 AND a.at >= $2 ORDER BY a.at")
    };
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(user)
        .bind(since)
        .fetch_all(pool)
        .await?))
}

/// Every access since `since`, oldest first.
async fn all_since(db: &Db, since: Timestamp) -> Result<Vec<AccessRow>, StoreError> {
    // plan: scans users (haven audit --since lists the whole record since a date: names for all)
    let sql = format!("{SELECT} WHERE a.at >= $1 ORDER BY a.at");
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(since)
        .fetch_all(pool)
        .await?))
}
