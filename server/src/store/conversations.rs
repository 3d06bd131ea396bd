//! The `conversations`, `conversation_members` and `direct_conversations` tables. Most
//! statements are the same on both backends and live here; the sidebar pages and the read
//! marker (`MAX` or `GREATEST`, integer widths) are in the backend folders.

use app::protocol::{ConversationId, MessageId, Timestamp, UserId};

use super::messages::MessageRow;
use super::users::{LastSeen, Profile};
use super::{dispatch, on_either, Db, StoreError};

/// A conversation as one member's sidebar lists it.
#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: ConversationId,
    /// The other member.
    pub peer: Profile,
    pub last_message: Option<MessageRow>,
    /// Messages of the other member after this member's read marker.
    pub unread: u32,
    /// The other member's first message since this member last wrote or marked the
    /// conversation handled: they are waiting for an answer since then.
    pub awaiting_since: Option<Timestamp>,
    /// The conversation's newest message as this member's row keeps it: the sidebar's
    /// order (0 before the first message).
    pub activity: MessageId,
}

/// Where a page of the sidebar in most-recent-first order starts: after this
/// `(activity, conversation)` (exclusive), or from the top.
pub type RecentCursor = Option<(MessageId, ConversationId)>;

/// Where a page of the conversations awaiting a reply, longest first, starts: after this
/// `(awaiting since, conversation)` (exclusive), or from the longest.
pub type WaitingCursor = Option<(Timestamp, ConversationId)>;

/// The one-to-one conversation of a student and a psychiatrist, created on first use.
pub async fn open_direct(
    db: &Db,
    student: UserId,
    psychiatrist: UserId,
) -> Result<ConversationId, StoreError> {
    if let Some(id) = find_direct(db, student, psychiatrist).await? {
        return Ok(id);
    }
    let created = on_either!(db, |pool| {
        let mut tx = pool.begin().await?;
        let id: ConversationId =
            sqlx::query_scalar("INSERT INTO conversations DEFAULT VALUES RETURNING id")
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2), ($1, $3)",
        )
        .bind(id)
        .bind(student)
        .bind(psychiatrist)
        .execute(&mut *tx)
        .await?;
        // Opened concurrently by the other side (or on another node): keep theirs, drop ours.
        let inserted = sqlx::query(
            "INSERT INTO direct_conversations (student_id, psychiatrist_id, conversation_id) \
             VALUES ($1, $2, $3) ON CONFLICT (student_id, psychiatrist_id) DO NOTHING",
        )
        .bind(student)
        .bind(psychiatrist)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            tx.commit().await?;
            Some(id)
        } else {
            tx.rollback().await?;
            None
        }
    });
    match created {
        Some(id) => Ok(id),
        None => find_direct(db, student, psychiatrist)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a conflicting conversation vanished".into())),
    }
}

/// The conversation of this student and psychiatrist, if one exists.
pub async fn find_direct(
    db: &Db,
    student: UserId,
    psychiatrist: UserId,
) -> Result<Option<ConversationId>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_scalar(
        "SELECT conversation_id FROM direct_conversations \
         WHERE student_id = $1 AND psychiatrist_id = $2",
    )
    .bind(student)
    .bind(psychiatrist)
    .fetch_optional(pool)
    .await?))
}

/// The members of a conversation (empty if it does not exist).
pub async fn members(db: &Db, conversation: ConversationId) -> Result<Vec<UserId>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_scalar(
        "SELECT user_id FROM conversation_members WHERE conversation_id = $1 ORDER BY user_id",
    )
    .bind(conversation)
    .fetch_all(pool)
    .await?))
}

/// A page of the user's conversations, most recent activity first, at most `limit`;
/// with `not_waiting`, only those not awaiting the user's reply. An index walk from
/// `after`: the cost is the page's, however many conversations the user has.
pub async fn recent_page(
    db: &Db,
    user: UserId,
    after: RecentCursor,
    not_waiting: bool,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    dispatch!(
        db,
        conversations::recent_page(user, after, not_waiting, limit)
    )
}

/// A page of the user's conversations awaiting their reply, the longest waiting first.
pub async fn waiting_page(
    db: &Db,
    user: UserId,
    after: WaitingCursor,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    dispatch!(db, conversations::waiting_page(user, after, limit))
}

/// Marks the conversation handled by `user` up to its newest message: it no longer awaits
/// their reply until the other member writes again.
pub async fn mark_handled(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<(), StoreError> {
    on_either!(db, |pool| {
        sqlx::query(
        "UPDATE conversation_members SET handled_through_id = last_message_id, awaiting_since = NULL \
         WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation)
    .bind(user)
    .execute(pool)
    .await
    .map(drop)?
    });
    Ok(())
}

/// Marks the conversation unread for `user`: counted unread in their sidebar until they
/// read it again (their read marker, and so the other member's "Seen", stays).
pub async fn mark_unread(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<(), StoreError> {
    on_either!(db, |pool| sqlx::query(
        "UPDATE conversation_members SET marked_unread = TRUE \
         WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation)
    .bind(user)
    .execute(pool)
    .await
    .map(drop)?);
    Ok(())
}

/// A student's first message in a conversation, and how many conversations they have.
pub async fn student_facts(
    db: &Db,
    conversation: ConversationId,
    student: UserId,
) -> Result<(Option<Timestamp>, u32), StoreError> {
    let (since, count): (Option<Timestamp>, i64) = on_either!(db, |pool| {
        sqlx::query_as(
        "SELECT (SELECT first_written_at FROM conversation_members WHERE conversation_id = $1 AND user_id = $2) AS since, \
                (SELECT COUNT(*) FROM conversation_members WHERE user_id = $2) AS conversations",
    )
    .bind(conversation)
    .bind(student)
    .fetch_one(pool)
    .await?
    });
    Ok((since, u32::try_from(count).unwrap_or(u32::MAX)))
}

/// The people who share a conversation with `user`, with their last-seen times.
pub async fn peers_last_seen(db: &Db, user: UserId) -> Result<Vec<LastSeen>, StoreError> {
    on_either!(db, |pool| {
        Ok(sqlx::query_as(
        "SELECT DISTINCT u.id, u.last_seen_at FROM conversation_members me \
         JOIN conversation_members other ON other.conversation_id = me.conversation_id AND other.user_id != me.user_id \
         JOIN users u ON u.id = other.user_id WHERE me.user_id = $1",
    )
    .bind(user)
    .fetch_all(pool)
    .await?)
    })
}

/// Moves a member's read marker forward to `read` (never backwards), if `read` is a message
/// of this conversation; `at` is recorded when the marker moves. Answers the marker and its
/// time after the update, or `None` if `read` is not a message of the conversation.
pub async fn mark_read(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
    read: MessageId,
    at: Timestamp,
) -> Result<Option<(MessageId, Option<Timestamp>)>, StoreError> {
    dispatch!(db, conversations::mark_read(conversation, user, read, at))
}

/// A member's read marker and when it last moved (0 and none if never read).
pub async fn read_marker(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<(MessageId, Option<Timestamp>), StoreError> {
    let marker = on_either!(db, |pool| sqlx::query_as(
        "SELECT last_read_id, last_read_at FROM conversation_members \
         WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation)
    .bind(user)
    .fetch_optional(pool)
    .await?);
    Ok(marker.unwrap_or((MessageId(0), None)))
}
