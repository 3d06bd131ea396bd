//! A student's own data, as they download it (`/account/export.json`, and rendered as a
//! readable page by `privacy::html`). The JSON is the format; docs/privacy.md describes it.

use app::protocol::{
    ConversationId, Group, Message, MessageId, MessageKind, Person, Role, Timestamp, UserId,
};
use serde::Serialize;

/// Everything of one student's account.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub exported_at: Timestamp,
    pub account: Account,
    pub conversations: Vec<Conversation>,
}

/// The account itself.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub username: String,
    pub display_name: String,
}

/// One conversation, every message oldest first.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: ConversationId,
    pub with: Peer,
    /// A group's name (`with` is its leader); absent for a one-to-one conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub messages: Vec<Line>,
}

/// Who the conversation is with.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    pub display_name: String,
    pub role: Role,
}

/// Who wrote a line, from the student's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    /// The student.
    You,
    /// The other member.
    Them,
    /// Haven's automatic notice.
    Haven,
}

/// One message.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub id: MessageId,
    pub at: Timestamp,
    pub from: Author,
    pub kind: MessageKind,
    /// In a group: the name the author (or whom a line is about) showed there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub body: String,
}

impl Conversation {
    /// The conversation `id` of `me` with `peer`, from its stored messages.
    pub fn new(me: UserId, id: ConversationId, peer: Person, messages: Vec<Message>) -> Self {
        let messages = messages
            .into_iter()
            .map(|m| Line {
                id: m.id,
                at: m.created_at,
                from: match m.sender_id {
                    Some(sender) if sender == me => Author::You,
                    Some(_) => Author::Them,
                    None => Author::Haven,
                },
                kind: m.kind,
                name: None,
                body: m.body,
            })
            .collect();
        Self {
            id,
            with: Peer {
                display_name: peer.display_name,
                role: peer.role,
            },
            group: None,
            messages,
        }
    }

    /// A group the student is in, `leader` leading it, from its messages as shown to them
    /// (their own carry their handle, `group.me`; others' their chosen names only).
    pub fn group(group: Group, leader: Person, messages: Vec<Message>) -> Self {
        let messages = messages
            .into_iter()
            .map(|m| {
                let handle = m.author.as_ref().map(|a| a.handle.as_str());
                let from = match (m.kind.is_group_line(), m.kind) {
                    (true, _) | (_, MessageKind::Notice) => Author::Haven,
                    _ if handle == Some(group.me.as_str()) => Author::You,
                    _ => Author::Them,
                };
                Line {
                    id: m.id,
                    at: m.created_at,
                    from,
                    kind: m.kind,
                    name: m.author.map(|a| a.name),
                    body: m.body,
                }
            })
            .collect();
        Self {
            id: group.id,
            with: Peer {
                display_name: leader.display_name,
                role: leader.role,
            },
            group: Some(group.name),
            messages,
        }
    }
}
