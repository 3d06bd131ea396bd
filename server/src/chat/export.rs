//! A student's own data, as they download it (`/account/export.json`, and rendered as a
//! readable page by `privacy::html`). The JSON is the format; docs/privacy.md describes it.

use app::protocol::{
    ConversationId, Message, MessageId, MessageKind, Person, Role, Timestamp, UserId,
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
                body: m.body,
            })
            .collect();
        Self {
            id,
            with: Peer {
                display_name: peer.display_name,
                role: peer.role,
            },
            messages,
        }
    }
}
