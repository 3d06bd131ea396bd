//! The `conversations`, `conversation_members` and `direct_conversations` tables on
//! PostgreSQL.

use app::protocol::{ConversationId, MessageId, Role, Timestamp, UserId};
use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

use super::{optional_time, pg_time};
use crate::store::conversations::{ConversationRow, RecentCursor, WaitingCursor};
use crate::store::messages::MessageRow;
use crate::store::users::Profile;
use crate::store::StoreError;

/// A sidebar entry (see the SQLite twin): the member's row with its maintained aggregates,
/// the other member, and the newest message a person wrote. Every join is by key.
const SUMMARY: &str = "SELECT me.conversation_id, me.last_message_id AS activity, \
        peer.id AS peer_id, peer.display_name, peer.role, peer.bio, \
        m.id, m.conversation_id AS m_conversation_id, m.sender_id, m.client_id, m.body, m.created_at, m.erased, \
        CASE WHEN me.marked_unread THEN GREATEST(1, me.unread_count) ELSE me.unread_count END AS unread, \
        me.awaiting_since \
    FROM conversation_members me \
    JOIN conversations c ON c.id = me.conversation_id \
    JOIN conversation_members other ON other.conversation_id = me.conversation_id AND other.user_id <> me.user_id \
    JOIN users peer ON peer.id = other.user_id \
    LEFT JOIN messages m ON m.id = COALESCE(c.last_text_id, c.last_message_id)";

pub async fn recent_page(
    db: &PgPool,
    user: UserId,
    after: RecentCursor,
    not_waiting: bool,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    let (activity, id) = after.map_or((i64::MAX, i64::MAX), |(a, c)| (a.0, c.0));
    let rows = sqlx::query(&format!(
        "{SUMMARY} WHERE me.user_id = $1 AND (me.last_message_id, me.conversation_id) < ($2, $3) \
           AND (NOT $4 OR me.awaiting_since IS NULL) \
         ORDER BY me.last_message_id DESC, me.conversation_id DESC LIMIT $5"
    ))
    .bind(user.0)
    .bind(activity)
    .bind(id)
    .bind(not_waiting)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter().map(summary_row).collect()
}

pub async fn waiting_page(
    db: &PgPool,
    user: UserId,
    after: WaitingCursor,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    let (since, id) = after.map_or((Timestamp::from_millis(0), 0), |(t, c)| (t, c.0));
    let rows = sqlx::query(&format!(
        "{SUMMARY} WHERE me.user_id = $1 AND me.awaiting_since IS NOT NULL \
           AND (me.awaiting_since, me.conversation_id) > ($2, $3) \
         ORDER BY me.awaiting_since, me.conversation_id LIMIT $4"
    ))
    .bind(user.0)
    .bind(pg_time(since))
    .bind(id)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await?;
    rows.iter().map(summary_row).collect()
}

fn summary_row(row: &PgRow) -> Result<ConversationRow, StoreError> {
    let role: String = row.try_get("role")?;
    let last_message = match row.try_get::<Option<i64>, _>("id")? {
        Some(_) => Some(MessageRow {
            conversation_id: ConversationId(row.try_get("m_conversation_id")?),
            ..sqlx::FromRow::from_row(row)?
        }),
        None => None,
    };
    Ok(ConversationRow {
        id: ConversationId(row.try_get("conversation_id")?),
        peer: Profile {
            id: UserId(row.try_get("peer_id")?),
            display_name: row.try_get("display_name")?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
            bio: row.try_get("bio")?,
        },
        last_message,
        unread: u32::try_from(row.try_get::<i32, _>("unread")?).unwrap_or(u32::MAX),
        awaiting_since: optional_time(row.try_get("awaiting_since")?),
        activity: MessageId(row.try_get("activity")?),
    })
}

pub async fn mark_read(
    db: &PgPool,
    conversation: ConversationId,
    user: UserId,
    read: MessageId,
    at: Timestamp,
) -> Result<Option<(MessageId, Option<Timestamp>)>, StoreError> {
    let row = sqlx::query(
        "UPDATE conversation_members SET \
           last_read_at = CASE WHEN $1 > last_read_id THEN $4 ELSE last_read_at END, \
           last_read_id = GREATEST(last_read_id, $1), marked_unread = false, \
           unread_count = (SELECT COUNT(*) FROM messages u WHERE u.conversation_id = $2 \
             AND u.id > GREATEST(conversation_members.last_read_id, $1) AND u.sender_id <> $3) \
         WHERE conversation_id = $2 AND user_id = $3 \
           AND EXISTS (SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2) \
         RETURNING last_read_id, last_read_at",
    )
    .bind(read.0)
    .bind(conversation.0)
    .bind(user.0)
    .bind(pg_time(at))
    .fetch_optional(db)
    .await?;
    row.map(|row| {
        Ok((
            MessageId(row.try_get("last_read_id")?),
            optional_time(row.try_get("last_read_at")?),
        ))
    })
    .transpose()
}
