//! Storage rows to wire types: what the domain lets out of the store.

use app::protocol::{ConversationSummary, Message, Person};

use crate::store::conversations::ConversationRow;
use crate::store::messages::MessageRow;
use crate::store::users::Profile;

/// A stored message as clients see it.
pub fn message(row: MessageRow) -> Message {
    Message {
        id: row.id,
        conversation_id: row.conversation_id,
        kind: row.kind(),
        sender_id: row.sender_id,
        client_id: row.client_id,
        body: row.body,
        created_at: row.created_at,
        author: None,
    }
}

/// A user as others see them.
pub fn person(profile: Profile) -> Person {
    Person {
        id: profile.id,
        display_name: profile.display_name,
        role: profile.role,
        bio: profile.bio,
        availability: None,
        student: None,
    }
}

/// A conversation as the member's sidebar shows it.
pub fn summary(row: ConversationRow) -> ConversationSummary {
    ConversationSummary {
        id: row.id,
        peer: person(row.peer),
        group: None,
        last_message: row.last_message.map(message),
        unread: row.unread,
        awaiting_since: row.awaiting_since,
    }
}
