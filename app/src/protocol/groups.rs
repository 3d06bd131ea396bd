//! Support groups on the wire (docs/protocol.md): what a member sees of a group and of the
//! people in it. A student never receives another student's user id, username, or (when
//! they chose an alias) display name: members are [`Author`]s, told apart by a handle that
//! is random per group, so the same person in two groups cannot be linked.

use serde::{Deserialize, Serialize};

use super::{ConversationId, MessageId, Role, Timestamp, UserId};

/// The member limit a group gets when its leader names none.
pub const DEFAULT_MEMBER_LIMIT: u32 = 12;
/// The largest member limit (students, members and open invitations together).
pub const MAX_MEMBER_LIMIT: u32 = 30;
/// The longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 80;
/// The longest description (one paragraph), in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 600;
/// The longest alias, in characters.
pub const MAX_ALIAS_CHARS: usize = 32;

/// A person in a group as the receiver may see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Author {
    /// Random, per group (`g` and 12 hex digits).
    pub handle: String,
    /// Their alias in this group, or their display name if they chose none.
    pub name: String,
    pub role: Role,
    /// Their user id: for the leader (a psychiatrist's id is public), and to the leader
    /// for everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// To the leader only, when `name` is an alias: the display name behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// A group as its members (and an invited student) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: ConversationId,
    pub name: String,
    pub description: String,
    /// Students at most, members and open invitations together.
    pub member_limit: u32,
    /// Students who are members now.
    pub students: u32,
    /// The psychiatrist who leads it.
    pub leader: Author,
    /// The receiver's own handle in this group: their messages carry it.
    pub me: String,
    /// When the leader closed it (read-only since), if they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<Timestamp>,
}

/// A member as the group's page lists them, with how far they have read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMember {
    #[serde(flatten)]
    pub author: Author,
    pub last_read_id: MessageId,
}

/// A group's page: the group and its members now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub group: Group,
    pub members: Vec<GroupMember>,
}

// ---- client → server ----

/// `group:create`: a psychiatrist starts a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroup {
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_limit: Option<u32>,
}

/// `group:invite`: the leader invites one of their students.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteToGroup {
    pub conversation_id: ConversationId,
    pub student_id: UserId,
}

/// `group:answer`: an invited student accepts (showing `alias`, or their display name when
/// absent or null) or declines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerInvitation {
    pub conversation_id: ConversationId,
    pub accept: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// `group:leave` and `group:close`: the group the member means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InGroup {
    pub conversation_id: ConversationId,
}

/// `group:remove`: the leader removes a member (by the user id the leader sees).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveMember {
    pub conversation_id: ConversationId,
    pub member_id: UserId,
}

/// `message:remove`: the leader removes a message from their group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveMessage {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}

/// `group:create`'s ack value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreated {
    pub conversation: Group,
}

/// `group:answer`'s ack value: the group, when the student joined it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAnswered {
    pub conversation: Option<Group>,
}

// ---- server → client ----

/// What happened to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberChange {
    Joined,
    Left,
    Removed,
}

/// `group:member`: someone joined, left or was removed; to the members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberUpdate {
    pub conversation_id: ConversationId,
    pub member: Author,
    pub change: MemberChange,
    /// Students who are members now.
    pub students: u32,
}

/// `group:closed`: the leader closed the group at `closed_at` (read-only since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupClosed {
    pub conversation_id: ConversationId,
    pub closed_at: Timestamp,
}

/// `group:removed` (to the member removed or gone, on every tab): which group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupGone {
    pub conversation_id: ConversationId,
}

/// `message:removed`: the leader removed a message; show "message removed" in its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRemoved {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}
