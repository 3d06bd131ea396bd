//! The `groups` and `group_people` tables (support groups, issue 27): the same statements
//! on both backends. A group's current members are also `conversation_members` rows, so
//! the sidebar, unread counts and catch-up read groups as they read any conversation.

use app::protocol::{ConversationId, MessageId, Role, Timestamp, UserId};

use super::{on_either, Db, StoreError};

/// Where someone stands with a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Invited,
    Member,
    Declined,
    Left,
    Removed,
}

impl Standing {
    fn as_str(self) -> &'static str {
        match self {
            Standing::Invited => "invited",
            Standing::Member => "member",
            Standing::Declined => "declined",
            Standing::Left => "left",
            Standing::Removed => "removed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "invited" => Standing::Invited,
            "member" => Standing::Member,
            "declined" => Standing::Declined,
            "left" => Standing::Left,
            "removed" => Standing::Removed,
            other => return Err(StoreError::Corrupt(format!("group standing {other:?}"))),
        })
    }
}

/// A group's own row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub conversation_id: ConversationId,
    pub leader_id: UserId,
    pub name: String,
    pub description: String,
    pub member_limit: i32,
    /// Students who are members now.
    pub students: i32,
    pub closed_at: Option<Timestamp>,
}

/// Someone ever invited to a group (the leader included), with their account's name.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub user_id: UserId,
    pub handle: String,
    pub alias: Option<String>,
    pub standing: Standing,
    pub display_name: String,
    pub role: Role,
    /// Their read marker while a member (0 otherwise).
    pub last_read_id: MessageId,
}

#[derive(sqlx::FromRow)]
struct PersonWire {
    user_id: UserId,
    handle: String,
    alias: Option<String>,
    state: String,
    display_name: String,
    role: Role,
    last_read_id: Option<MessageId>,
}

impl TryFrom<PersonWire> for PersonRow {
    type Error = StoreError;

    fn try_from(row: PersonWire) -> Result<Self, StoreError> {
        Ok(PersonRow {
            user_id: row.user_id,
            handle: row.handle,
            alias: row.alias,
            standing: Standing::parse(&row.state)?,
            display_name: row.display_name,
            role: row.role,
            last_read_id: row.last_read_id.unwrap_or_default(),
        })
    }
}

const GROUP: &str =
    "SELECT conversation_id, leader_id, name, description, member_limit, students, closed_at \
    FROM groups";

const PERSON: &str = "SELECT p.user_id, p.handle, p.alias, p.state, u.display_name, u.role, cm.last_read_id \
    FROM group_people p JOIN users u ON u.id = p.user_id \
    LEFT JOIN conversation_members cm ON cm.conversation_id = p.conversation_id AND cm.user_id = p.user_id";

/// A new group: the conversation, its row, and the leader as its first member, in one
/// transaction.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &Db,
    leader: UserId,
    handle: &str,
    shown_key: &str,
    name: &str,
    description: &str,
    member_limit: u32,
    at: Timestamp,
) -> Result<ConversationId, StoreError> {
    on_either!(db, |pool| {
        let mut tx = pool.begin().await?;
        let id: ConversationId =
            sqlx::query_scalar("INSERT INTO conversations DEFAULT VALUES RETURNING id")
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO groups (conversation_id, leader_id, name, description, member_limit, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(leader)
        .bind(name)
        .bind(description)
        .bind(member_limit as i32)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2)")
            .bind(id)
            .bind(leader)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO group_people (conversation_id, user_id, handle, shown_key, state, changed_at) \
             VALUES ($1, $2, $3, $4, 'member', $5)",
        )
        .bind(id)
        .bind(leader)
        .bind(handle)
        .bind(shown_key)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// The group of this conversation, if it is one.
pub async fn find(db: &Db, conversation: ConversationId) -> Result<Option<GroupRow>, StoreError> {
    let sql = format!("{GROUP} WHERE conversation_id = $1");
    on_either!(db, |pool| Ok(sqlx::query_as(&sql)
        .bind(conversation)
        .fetch_optional(pool)
        .await?))
}

/// Everyone ever invited to the group, the leader first, then by when they were invited
/// (at most the member limit and those who left: a few dozen rows).
pub async fn people(db: &Db, conversation: ConversationId) -> Result<Vec<PersonRow>, StoreError> {
    let sql = format!(
        "{PERSON} WHERE p.conversation_id = $1 ORDER BY u.role DESC, p.changed_at, p.user_id"
    );
    let rows: Vec<PersonWire> = on_either!(db, |pool| sqlx::query_as(&sql)
        .bind(conversation)
        .fetch_all(pool)
        .await?);
    rows.into_iter().map(PersonRow::try_from).collect()
}

/// One person's row in the group, if they were ever invited.
pub async fn person(
    db: &Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<PersonRow>, StoreError> {
    let sql = format!("{PERSON} WHERE p.conversation_id = $1 AND p.user_id = $2");
    let row: Option<PersonWire> = on_either!(db, |pool| sqlx::query_as(&sql)
        .bind(conversation)
        .bind(user)
        .fetch_optional(pool)
        .await?);
    row.map(PersonRow::try_from).transpose()
}

/// Students invited and not yet answered, and students who are members.
pub async fn places_taken(db: &Db, conversation: ConversationId) -> Result<u32, StoreError> {
    let taken: i64 = on_either!(db, |pool| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM group_people p JOIN groups g ON g.conversation_id = p.conversation_id \
         WHERE p.conversation_id = $1 AND p.state IN ('invited', 'member') AND p.user_id <> g.leader_id",
    )
    .bind(conversation)
    .fetch_one(pool)
    .await?
    });
    Ok(u32::try_from(taken).unwrap_or(u32::MAX))
}

/// Invites a student: a new row with `handle`, or an earlier one (declined, left, removed)
/// invited again under its old handle. False if they are invited or a member already.
pub async fn invite(
    db: &Db,
    conversation: ConversationId,
    student: UserId,
    handle: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = on_either!(db, |pool| {
        sqlx::query(
        "INSERT INTO group_people (conversation_id, user_id, handle, shown_key, state, changed_at) \
         VALUES ($1, $2, $3, $3, 'invited', $4) \
         ON CONFLICT (conversation_id, user_id) DO UPDATE SET state = 'invited', changed_at = $4, \
           alias = NULL, shown_key = group_people.handle \
         WHERE group_people.state NOT IN ('invited', 'member')",
    )
    .bind(conversation)
    .bind(student)
    .bind(handle)
    .bind(at)
    .execute(pool)
    .await?
    .rows_affected()
    });
    Ok(changed == 1)
}

/// The groups `user` is invited to and has not answered, newest invitation first.
pub async fn invitations(db: &Db, user: UserId) -> Result<Vec<ConversationId>, StoreError> {
    on_either!(db, |pool| Ok(sqlx::query_scalar(
        "SELECT conversation_id FROM group_people WHERE user_id = $1 AND state = 'invited' \
         ORDER BY changed_at DESC, conversation_id DESC",
    )
    .bind(user)
    .fetch_all(pool)
    .await?))
}

/// An invited student joins under `alias` (`None`: their display name, whose lowercase is
/// `shown_key` either way): they become a member who sees the group from its newest
/// message on. False if they were not invited; [`StoreError::Conflict`] if another member
/// shows under the same name.
pub async fn join(
    db: &Db,
    conversation: ConversationId,
    student: UserId,
    alias: Option<&str>,
    shown_key: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    on_either!(db, |pool| {
        let mut tx = pool.begin().await?;
        let joined = sqlx::query(
            "UPDATE group_people SET state = 'member', alias = $3, shown_key = $4, changed_at = $5 \
             WHERE conversation_id = $1 AND user_id = $2 AND state = 'invited'",
        )
        .bind(conversation)
        .bind(student)
        .bind(alias)
        .bind(shown_key)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if joined != 1 {
            return Ok(false);
        }
        // History from now on: the newest message is where their view and markers start.
        sqlx::query(
            "INSERT INTO conversation_members \
               (conversation_id, user_id, visible_after_id, last_read_id, last_message_id) \
             SELECT id, $2, COALESCE(last_message_id, 0), COALESCE(last_message_id, 0), \
               COALESCE(last_message_id, 0) FROM conversations WHERE id = $1",
        )
        .bind(conversation)
        .bind(student)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE groups SET students = students + 1 WHERE conversation_id = $1")
            .bind(conversation)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// An invited student declines. False if they were not invited.
pub async fn decline(
    db: &Db,
    conversation: ConversationId,
    student: UserId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = on_either!(db, |pool| sqlx::query(
        "UPDATE group_people SET state = 'declined', changed_at = $3 \
         WHERE conversation_id = $1 AND user_id = $2 AND state = 'invited'",
    )
    .bind(conversation)
    .bind(student)
    .bind(at)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

/// A member leaves or is removed (`standing`): they stop being a member at once. False if
/// they were not a member.
pub async fn depart(
    db: &Db,
    conversation: ConversationId,
    student: UserId,
    standing: Standing,
    at: Timestamp,
) -> Result<bool, StoreError> {
    on_either!(db, |pool| {
        let mut tx = pool.begin().await?;
        let left = sqlx::query(
            "UPDATE group_people SET state = $3, changed_at = $4 \
             WHERE conversation_id = $1 AND user_id = $2 AND state = 'member'",
        )
        .bind(conversation)
        .bind(student)
        .bind(standing.as_str())
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if left != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2")
            .bind(conversation)
            .bind(student)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE groups SET students = students - 1 WHERE conversation_id = $1")
            .bind(conversation)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Closes the group at `at`. False if it was closed already.
pub async fn close(
    db: &Db,
    conversation: ConversationId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = on_either!(db, |pool| sqlx::query(
        "UPDATE groups SET closed_at = $2 WHERE conversation_id = $1 AND closed_at IS NULL",
    )
    .bind(conversation)
    .bind(at)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

/// Whether `message` is a member's message (not a quiet line) in the group.
pub async fn has_members_message(
    db: &Db,
    conversation: ConversationId,
    message: MessageId,
) -> Result<bool, StoreError> {
    let found: Option<MessageId> = on_either!(db, |pool| {
        sqlx::query_scalar(
        "SELECT id FROM messages WHERE id = $1 AND conversation_id = $2 AND sender_id IS NOT NULL",
    )
    .bind(message)
    .bind(conversation)
    .fetch_optional(pool)
    .await?
    });
    Ok(found.is_some())
}

/// Deletes the body of a member's message in the group, keeping its row (the timeline
/// shows "message removed" in its place). False if it is not a member's message there.
pub async fn remove_message(
    db: &Db,
    conversation: ConversationId,
    message: MessageId,
) -> Result<bool, StoreError> {
    let changed = on_either!(db, |pool| sqlx::query(
        "UPDATE messages SET body = '', removed = TRUE \
         WHERE id = $1 AND conversation_id = $2 AND sender_id IS NOT NULL",
    )
    .bind(message)
    .bind(conversation)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

/// Inside an account's erasure (`users::erase`), each bound to the user: the student leaves
/// every group they were in or invited to, and their alias goes with their name.
pub(super) const ERASE_PERSON: [&str; 3] = [
    "UPDATE groups SET students = students - 1 WHERE conversation_id IN \
     (SELECT conversation_id FROM group_people WHERE user_id = $1 AND state = 'member') \
     AND leader_id <> $1",
    "DELETE FROM conversation_members WHERE user_id = $1 AND conversation_id IN \
     (SELECT conversation_id FROM group_people WHERE user_id = $1 AND state = 'member')",
    "UPDATE group_people SET alias = NULL, shown_key = handle, \
       state = CASE WHEN state IN ('invited', 'member') THEN 'left' ELSE state END \
     WHERE user_id = $1",
];
