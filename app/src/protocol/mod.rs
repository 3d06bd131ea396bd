//! Wire types shared by the server and the browser: one definition, so they cannot drift.
//! Records and ids here; every Socket.IO payload and ack in [`events`]; the time type in
//! [`timestamp`].

pub mod care;
pub mod events;
pub mod form;
pub mod groups;
pub mod json;
pub mod privacy;
pub mod push;
#[cfg(feature = "ssr")]
mod sql;
pub mod timestamp;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use care::{
    Availability, AvailabilityForm, AvailabilitySettings, AvailabilityState, CrisisList,
    CrisisResource,
};
pub use events::{
    Ack, AckError, AttentionSignal, ConversationMarked, ConversationOpened, Done, HandshakeAuth,
    Mark, MarkRead, MessageSent, Object, OpenConversation, OpenedConversation, PresenceSnapshot,
    PresenceUpdate, ReadStored, ReadUpdate, SendMessage, TypingSignal, TypingUpdate,
};
pub use groups::{Author, Group, GroupMember, GroupView};
pub use privacy::{AccessEntry, AccessKind, AccountSettings};
pub use push::{PushOffer, PushPayload, PushWords};
pub use timestamp::Timestamp;

/// A user's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of account a user has; decides which pages and peers they may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Student,
    Psychiatrist,
}

impl Role {
    /// The lowercase name used on the wire, in the database and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Psychiatrist => "psychiatrist",
        }
    }

    /// Parses the lowercase wire name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "student" => Some(Role::Student),
            "psychiatrist" => Some(Role::Psychiatrist),
            _ => None,
        }
    }

    /// The sign-in page for this role.
    pub fn login_path(self) -> &'static str {
        match self {
            Role::Student => "/login/student",
            Role::Psychiatrist => "/login/psychiatrist",
        }
    }

    /// "student" / "psychiatrist" with an article, for messages.
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Student => "a student",
            Role::Psychiatrist => "a psychiatrist",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `POST /api/auth/login` answers and what the UI knows about the signed-in user.
/// Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// Who is looking at the page: a signed-in user, or nobody (with the sign-in page to send them to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Viewer {
    SignedIn(PublicUser),
    SignedOut { login_path: String },
}

/// A conversation's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub i64);

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A message's server id: monotonic, the order of the conversation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct MessageId(pub i64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id the sending client gives a message (UUID v4 text), so a resend is recognised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub String);

/// The longest message body, in characters, after trimming.
pub const MAX_BODY_CHARS: usize = 4000;

/// Who wrote a message: a member, or Haven itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Written by its sender.
    #[default]
    Text,
    /// Written by Haven (the after-hours notice): `senderId` is `null`, and it is never
    /// shown as anyone's words.
    Notice,
    /// Written by an account since deleted: the body is erased (empty) and the message
    /// shows as such (docs/privacy.md).
    Erased,
    /// Removed from a group by its leader: the body is deleted (empty).
    Removed,
    /// A quiet line in a group: `author` joined.
    #[serde(rename = "memberJoined")]
    MemberJoined,
    /// A quiet line in a group: `author` left.
    #[serde(rename = "memberLeft")]
    MemberLeft,
    /// A quiet line in a group: the leader removed `author`.
    #[serde(rename = "memberRemoved")]
    MemberRemoved,
    /// A quiet line in a group: the leader closed it (read-only since).
    #[serde(rename = "groupClosed")]
    GroupClosed,
}

impl MessageKind {
    /// A line about the group (joined, left, removed, closed), not anyone's words.
    pub fn is_group_line(self) -> bool {
        matches!(
            self,
            MessageKind::MemberJoined
                | MessageKind::MemberLeft
                | MessageKind::MemberRemoved
                | MessageKind::GroupClosed
        )
    }
}

/// A stored message: `M` in the wire contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// The member who wrote it; `None` for a notice from Haven, and in a group, for a
    /// student's message shown to another student (see `author`).
    pub sender_id: Option<UserId>,
    #[serde(default)]
    pub kind: MessageKind,
    pub client_id: ClientId,
    pub body: String,
    /// When the server stored it.
    pub created_at: Timestamp,
    /// In a group: who wrote it (or whom a quiet line is about), as the receiver may see them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
}

/// How this sign-in's session ends besides the defaults: the page warns before an
/// inactivity limit and, on a shared computer, keeps nothing beyond the tab.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionLimits {
    /// Ends after this many seconds without activity (shared computer, psychiatrist).
    pub idle_secs: Option<u64>,
    /// Signed in as "This is a shared computer".
    pub shared: bool,
}

/// A message a plain form (no JavaScript) could not send: the page shows it back in the
/// composer with the reason, so nothing typed is lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unsent {
    /// The `clientId` of the form that posted it: the page shows it back only when sent
    /// there with that id (`?unsent=`), so a later visit is clean.
    pub client_id: String,
    pub body: String,
    /// Why it was refused, in the person's words ("Messages are at most …").
    pub error: String,
}

/// A person as others see them (no username: it is a sign-in name, not a public handle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: UserId,
    pub display_name: String,
    pub role: Role,
    /// A short line about a psychiatrist; empty for students.
    pub bio: String,
    /// For a psychiatrist shown to a student: when they answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<Availability>,
    /// For a student shown to their psychiatrist in a conversation: who they are in Haven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<StudentFacts>,
}

/// What a psychiatrist sees of a student in the conversation header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StudentFacts {
    /// Their first message in this conversation, if they wrote yet.
    pub writing_since: Option<Timestamp>,
    /// How many conversations they have in Haven (with any psychiatrist).
    pub conversations: u32,
    /// Their account was deleted.
    #[serde(default)]
    pub deleted: bool,
}

/// One page of the sidebar, and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
    /// Groups the user is invited to and has not answered (on the first page only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invitations: Vec<Group>,
    /// Sent back as `after` for the next page; opaque to clients.
    pub more: Option<String>,
}

/// Where a page of the sidebar starts, as the server encodes it in
/// [`ConversationList::more`]: after a conversation in most-recent-first order (its newest
/// message id), or after one awaiting a reply in longest-waiting-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidebarCursor {
    Recent {
        activity: MessageId,
        id: ConversationId,
    },
    Waiting {
        since: Timestamp,
        id: ConversationId,
    },
}

impl std::fmt::Display for SidebarCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SidebarCursor::Recent { activity, id } => write!(f, "r.{}.{}", activity.0, id.0),
            SidebarCursor::Waiting { since, id } => write!(f, "w.{}.{}", since.as_millis(), id.0),
        }
    }
}

impl std::str::FromStr for SidebarCursor {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let mut parts = text.splitn(3, '.');
        let (Some(kind), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(());
        };
        let key: i64 = key.parse().map_err(|_| ())?;
        let id = ConversationId(id.parse().map_err(|_| ())?);
        match kind {
            "r" => Ok(SidebarCursor::Recent {
                activity: MessageId(key),
                id,
            }),
            "w" => Ok(SidebarCursor::Waiting {
                since: Timestamp::from_millis(key),
                id,
            }),
            _ => Err(()),
        }
    }
}

/// A conversation as the sidebar shows it, from one member's point of view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: ConversationId,
    /// The other member; in a group, its leader.
    pub peer: Person,
    /// A group's name, members and the receiver's handle; `None` for a one-to-one conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    pub last_message: Option<Message>,
    pub unread: u32,
    /// For a psychiatrist: since when the student has been waiting for an answer (their
    /// first message since the psychiatrist last wrote or marked it handled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_since: Option<Timestamp>,
}
