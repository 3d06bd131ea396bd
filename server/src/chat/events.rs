//! What the chat domain tells the world, and the port it tells it through. The domain
//! decides what happened and who may know; a transport (today `realtime`, Socket.IO rooms
//! on one node; later a multi-node adapter) only delivers. Events are published after the
//! change is committed.

use std::sync::Arc;

use app::protocol::groups::{GroupClosed, GroupGone, MemberUpdate, MessageRemoved};
use app::protocol::{
    ConversationId, ConversationMarked, Group, Message, MessageId, PresenceUpdate, ReadUpdate,
    TypingUpdate, UserId,
};
use async_trait::async_trait;

/// The connection a request came from, as its transport names it (opaque to the domain):
/// lets an event skip the connection that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection(pub String);

/// Who an event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every connection of these users.
    Users(Arc<[UserId]>),
    /// Every connection of every signed-in student.
    Students,
}

/// Something that happened, with who may learn of it.
#[derive(Debug, Clone)]
pub enum ChatEvent {
    /// A message was stored (first time only: a retried send publishes nothing).
    MessageStored { message: Message, to: Audience },
    /// A member started or stopped typing; never sent back to the typist.
    Typing { update: TypingUpdate, to: Audience },
    /// A member's read marker moved; to the members, except the connection that read.
    Read {
        update: ReadUpdate,
        to: Audience,
        except: Option<Connection>,
    },
    /// A user came online or went offline, to those allowed to see it.
    Presence {
        update: PresenceUpdate,
        to: Audience,
    },
    /// A member marked a conversation (handled, unread): to their own connections.
    Marked {
        update: ConversationMarked,
        to: Audience,
    },
    /// A student was invited to a group: to them.
    GroupInvited { group: Group, to: Audience },
    /// Someone joined, left or was removed from a group: to its members now.
    GroupMember { update: MemberUpdate, to: Audience },
    /// A member left or was removed: to their own connections, which drop the group.
    GroupRemoved { update: GroupGone, to: Audience },
    /// A group's leader removed a message: to the members.
    MessageRemoved {
        update: MessageRemoved,
        to: Audience,
    },
    /// A group's leader closed it: to the members.
    GroupClosed { update: GroupClosed, to: Audience },
    /// A person's message its readers may not see for a while: for reminders between
    /// visits (Web Push). Published once, on the node that stored the message.
    Unread(Unread),
    /// A session ended (signed out): its connections close. `session` is the session's
    /// connection key (see `auth::session::socket_room`), not its id.
    SessionEnded { session: String },
}

/// A new message from a person, and who may need reminding of it.
#[derive(Debug, Clone)]
pub struct Unread {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    /// Who wrote it (a reminder "with names" names them, in a one-to-one conversation).
    pub sender: UserId,
    /// A group's name: a reminder "with names" names the group, never a member.
    pub group: Option<String>,
    /// The members who did not write it.
    pub readers: Vec<Reader>,
}

/// A member who may need reminding of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub user: UserId,
    /// A psychiatrist outside their office hours (or away) now: reminded only on devices
    /// where they chose reminders out of hours too.
    pub after_hours: bool,
}

/// The port: the domain hands every event here; an implementation delivers it.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Delivers `event` as well as the transport can; failures are the transport's to log.
    async fn publish(&self, event: ChatEvent);
}

/// Delivers nothing: for the CLI, which has no connections.
#[derive(Debug, Default)]
pub struct NoConnections;

#[async_trait]
impl Publisher for NoConnections {
    async fn publish(&self, _event: ChatEvent) {}
}

/// A shared publisher.
pub type SharedPublisher = Arc<dyn Publisher>;

/// Two transports behind the one port: reminders ([`ChatEvent::Unread`]) go to
/// `reminders`, every other event to `live`. Each event goes to one of them, uncopied.
pub struct Split {
    pub live: SharedPublisher,
    pub reminders: SharedPublisher,
}

#[async_trait]
impl Publisher for Split {
    async fn publish(&self, event: ChatEvent) {
        match event {
            ChatEvent::Unread(_) => self.reminders.publish(event).await,
            event => self.live.publish(event).await,
        }
    }
}
