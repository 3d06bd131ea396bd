//! The `conversations`, `conversation_members` and `direct_conversations` tables, the same
//! statements on both backends.

use app::protocol::{ClientId, ConversationId, MessageId, Role, Timestamp, UserId};

use super::groups::GroupRow;
use super::messages::MessageRow;
use super::users::{LastSeen, Profile};
use super::{on_either, Db, StoreError};

/// A conversation as one member's sidebar lists it.
#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: ConversationId,
    /// The other member; in a group, its leader.
    pub peer: Profile,
    /// The group, if the conversation is one.
    pub group: Option<GroupRow>,
    /// The newest message this member cannot see (in a group, the newest when they joined).
    pub visible_after: MessageId,
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

/// A sidebar entry: the member's row with its maintained aggregates (unread count, waits,
/// activity), the other member (in a group: the group and its leader), and the newest
/// message a person wrote (triage must show the student's words, not Haven's notice that
/// followed them). Every join is by key. A conversation marked unread counts at least one.
const SUMMARY: &str = "SELECT me.conversation_id, me.last_message_id AS activity, \
        peer.id AS peer_id, peer.display_name, peer.role, peer.bio, \
        m.id, m.conversation_id AS m_conversation_id, m.sender_id, m.client_id, m.body, m.created_at, \
        m.erased, m.removed, \
        CAST(CASE WHEN me.marked_unread AND me.unread_count = 0 THEN 1 ELSE me.unread_count END AS BIGINT) AS unread, \
        me.awaiting_since, me.visible_after_id, \
        g.conversation_id AS g_id, g.name AS g_name, g.description AS g_description, \
        g.member_limit AS g_member_limit, g.students AS g_students, g.closed_at AS g_closed_at \
    FROM conversation_members me \
    JOIN conversations c ON c.id = me.conversation_id \
    LEFT JOIN direct_conversations d ON d.conversation_id = me.conversation_id \
    LEFT JOIN groups g ON g.conversation_id = me.conversation_id \
    JOIN users peer ON peer.id = COALESCE(g.leader_id, \
        CASE WHEN d.student_id = me.user_id THEN d.psychiatrist_id ELSE d.student_id END) \
    LEFT JOIN messages m ON m.id = COALESCE(c.last_text_id, c.last_message_id)";

/// A [`SUMMARY`] row as it comes (the message's columns are null before the first one).
#[derive(sqlx::FromRow)]
struct SummaryRow {
    conversation_id: ConversationId,
    activity: MessageId,
    peer_id: UserId,
    display_name: String,
    role: Role,
    bio: String,
    id: Option<MessageId>,
    m_conversation_id: Option<ConversationId>,
    sender_id: Option<UserId>,
    client_id: Option<ClientId>,
    body: Option<String>,
    created_at: Option<Timestamp>,
    erased: Option<bool>,
    removed: Option<bool>,
    unread: i64,
    awaiting_since: Option<Timestamp>,
    visible_after_id: MessageId,
    g_id: Option<ConversationId>,
    g_name: Option<String>,
    g_description: Option<String>,
    g_member_limit: Option<i32>,
    g_students: Option<i32>,
    g_closed_at: Option<Timestamp>,
}

impl From<SummaryRow> for ConversationRow {
    fn from(row: SummaryRow) -> Self {
        let last_message = match (row.id, row.client_id, row.created_at) {
            (Some(id), Some(client_id), Some(created_at)) => Some(MessageRow {
                id,
                conversation_id: row.m_conversation_id.unwrap_or(row.conversation_id),
                sender_id: row.sender_id,
                client_id,
                body: row.body.unwrap_or_default(),
                created_at,
                erased: row.erased.unwrap_or(false),
                // The sidebar shows people's words: never a quiet line.
                event: None,
                subject_id: None,
                removed: row.removed.unwrap_or(false),
            }),
            _ => None,
        };
        let group = row.g_id.map(|id| GroupRow {
            conversation_id: id,
            leader_id: row.peer_id,
            name: row.g_name.unwrap_or_default(),
            description: row.g_description.unwrap_or_default(),
            member_limit: row.g_member_limit.unwrap_or_default(),
            students: row.g_students.unwrap_or_default(),
            closed_at: row.g_closed_at,
        });
        ConversationRow {
            id: row.conversation_id,
            peer: Profile {
                id: row.peer_id,
                display_name: row.display_name,
                role: row.role,
                bio: row.bio,
            },
            group,
            visible_after: row.visible_after_id,
            last_message,
            unread: u32::try_from(row.unread).unwrap_or(u32::MAX),
            // Triage is for a student waiting for their psychiatrist: a group never awaits.
            awaiting_since: row.awaiting_since.filter(|_| row.g_id.is_none()),
            activity: row.activity,
        }
    }
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
    let (activity, id) = after.unwrap_or((MessageId(i64::MAX), ConversationId(i64::MAX)));
    let sql = format!(
        "{SUMMARY} WHERE me.user_id = $1 AND (me.last_message_id, me.conversation_id) < ($2, $3) \
           AND (NOT $4 OR me.awaiting_since IS NULL OR g.conversation_id IS NOT NULL) \
         ORDER BY me.last_message_id DESC, me.conversation_id DESC LIMIT $5"
    );
    let rows: Vec<SummaryRow> = on_either!(db, |pool| sqlx::query_as(&sql)
        .bind(user)
        .bind(activity)
        .bind(id)
        .bind(not_waiting)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(ConversationRow::from).collect())
}

/// A page of the user's conversations awaiting their reply, the longest waiting first.
pub async fn waiting_page(
    db: &Db,
    user: UserId,
    after: WaitingCursor,
    limit: u32,
) -> Result<Vec<ConversationRow>, StoreError> {
    let (since, id) = after.unwrap_or((Timestamp::from_millis(0), ConversationId(0)));
    let sql = format!(
        "{SUMMARY} WHERE me.user_id = $1 AND me.awaiting_since IS NOT NULL \
           AND (me.awaiting_since, me.conversation_id) > ($2, $3) AND g.conversation_id IS NULL \
         ORDER BY me.awaiting_since, me.conversation_id LIMIT $4"
    );
    let rows: Vec<SummaryRow> = on_either!(db, |pool| sqlx::query_as(&sql)
        .bind(user)
        .bind(since)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
    Ok(rows.into_iter().map(ConversationRow::from).collect())
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

/// A student's first message in a conversation, and how many one-to-one conversations they
/// have (with any psychiatrist; groups are not counted).
pub async fn student_facts(
    db: &Db,
    conversation: ConversationId,
    student: UserId,
) -> Result<(Option<Timestamp>, u32), StoreError> {
    let (since, count): (Option<Timestamp>, i64) = on_either!(db, |pool| {
        sqlx::query_as(
        "SELECT (SELECT first_written_at FROM conversation_members WHERE conversation_id = $1 AND user_id = $2) AS since, \
                (SELECT COUNT(*) FROM direct_conversations WHERE student_id = $2) AS conversations",
    )
    .bind(conversation)
    .bind(student)
    .fetch_one(pool)
    .await?
    });
    Ok((since, u32::try_from(count).unwrap_or(u32::MAX)))
}

/// The people who have a one-to-one conversation with `user`, with their last-seen times:
/// whose status each may see. A group adds nobody: its leader's students each have a
/// conversation with the leader already, and students never see one another's status.
/// Each person is read by key (as a join, PostgreSQL would hash all of `users` for a
/// psychiatrist's few hundred students).
pub async fn peers_last_seen(db: &Db, user: UserId) -> Result<Vec<LastSeen>, StoreError> {
    on_either!(db, |pool| {
        Ok(sqlx::query_as(
            "SELECT d.psychiatrist_id AS id, \
           (SELECT u.last_seen_at FROM users u WHERE u.id = d.psychiatrist_id) AS last_seen_at \
         FROM direct_conversations d WHERE d.student_id = $1 \
         UNION ALL \
         SELECT d.student_id AS id, \
           (SELECT u.last_seen_at FROM users u WHERE u.id = d.student_id) AS last_seen_at \
         FROM direct_conversations d WHERE d.psychiatrist_id = $1",
        )
        .bind(user)
        .fetch_all(pool)
        .await?)
    })
}

/// Moves a member's read marker forward to `read` (never backwards), if `read` is a message
/// of this conversation; `at` is recorded when the marker moves. Answers the marker and its
/// time after the update, or `None` if `read` is not a message of the conversation. (Every
/// `SET` reads the row as it was.)
pub async fn mark_read(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
    read: MessageId,
    at: Timestamp,
) -> Result<Option<(MessageId, Option<Timestamp>)>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_as(
        "UPDATE conversation_members SET \
           last_read_at = CASE WHEN $1 > last_read_id THEN $4 ELSE last_read_at END, \
           last_read_id = CASE WHEN $1 > last_read_id THEN $1 ELSE last_read_id END, \
           marked_unread = FALSE, \
           unread_count = (SELECT COUNT(*) FROM messages u WHERE u.conversation_id = $2 \
             AND u.id > CASE WHEN $1 > conversation_members.last_read_id THEN $1 \
                             ELSE conversation_members.last_read_id END \
             AND u.sender_id <> $3) \
         WHERE conversation_id = $2 AND user_id = $3 \
           AND EXISTS (SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2) \
         RETURNING last_read_id, last_read_at",
    )
    .bind(read)
    .bind(conversation)
    .bind(user)
    .bind(at)
    .fetch_optional(pool)
    .await?))
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

/// The newest message id a member cannot see: in a group, the newest when they joined
/// (0 in a one-to-one conversation, or if they are not a member).
pub async fn visible_after(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<MessageId, StoreError> {
    let since: Option<MessageId> = on_either!(db, |pool| {
        sqlx::query_scalar(
        "SELECT visible_after_id FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation)
    .bind(user)
    .fetch_optional(pool)
    .await?
    });
    Ok(since.unwrap_or_default())
}
