//! Conversations and messages: the domain behind the socket events and the chat pages.
//! Every operation checks membership here, on the server.

pub mod backend;
mod error;
mod limiter;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use app::protocol::{
    ClientId, ConversationId, ConversationSummary, Message, MessageId, Person, Role, UserId,
    MAX_BODY_CHARS,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use error::ChatError;
pub use limiter::{SendLimiter, SendRate};

use crate::store::writer::MessageWriter;
use crate::store::{conversations, messages, users, Db};

/// How many messages a reconnect replays at most; past that the client reloads over HTTP.
pub const REPLAY_LIMIT: u32 = 1000;
/// Messages per history page.
pub const PAGE_SIZE: u32 = 50;

/// A message as a client asks to send it (already parsed from the wire).
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub conversation_id: ConversationId,
    pub client_id: ClientId,
    pub body: String,
}

/// The outcome of a send.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    /// The conversation's members, to deliver to.
    pub members: Arc<[UserId]>,
    /// `false` for a repeat of an already stored `(sender, clientId)`: ack, don't emit.
    pub fresh: bool,
}

/// What a reconnecting client gets.
#[derive(Debug)]
pub enum Replay {
    Messages(Vec<Message>),
    /// The gap is larger than [`REPLAY_LIMIT`]: reload over HTTP instead.
    TooLarge,
}

/// The chat service, shared by all sockets and requests.
#[derive(Debug)]
pub struct Chat {
    db: Db,
    writer: MessageWriter,
    limiter: SendLimiter,
    /// Typing signals per user: a client sends one every few seconds at most.
    typing_limiter: SendLimiter,
    /// Members per conversation. Membership never changes once a conversation exists
    /// (one-to-one only, no leaving), so entries never go stale; unknown ids are not cached.
    members: RwLock<HashMap<ConversationId, Arc<[UserId]>>>,
}

/// Checks and normalizes a body: trimmed, 1..=4000 characters.
pub fn clean_body(raw: &str) -> Result<&str, ChatError> {
    let body = raw.trim();
    if body.is_empty() {
        return Err(ChatError::EmptyBody);
    }
    // Cheap bound first: 4000 chars are at most 16000 bytes.
    if body.len() > 4 * MAX_BODY_CHARS || body.chars().count() > MAX_BODY_CHARS {
        return Err(ChatError::BodyTooLong);
    }
    Ok(body)
}

/// Parses a client id: a UUID, kept in its canonical lowercase hyphenated form.
pub fn parse_client_id(raw: &str) -> Result<ClientId, ChatError> {
    uuid::Uuid::parse_str(raw)
        .map(|u| ClientId(u.hyphenated().to_string()))
        .map_err(|_| ChatError::InvalidClientId)
}

impl Chat {
    /// The service over `db`, limiting sends to `rate` per user.
    pub fn new(db: Db, rate: SendRate) -> Self {
        Self {
            writer: MessageWriter::spawn(&db),
            db,
            limiter: SendLimiter::new(rate),
            typing_limiter: SendLimiter::new(SendRate {
                per_second: 2.0,
                burst: 6.0,
            }),
            members: RwLock::new(HashMap::new()),
        }
    }

    /// The members of `conversation` if `user` is one of them.
    async fn members_if_member(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Arc<[UserId]>, ChatError> {
        let cached = self
            .members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&conversation)
            .cloned();
        let members = match cached {
            Some(members) => members,
            None => {
                let loaded: Arc<[UserId]> =
                    conversations::members(&self.db, conversation).await?.into();
                if loaded.is_empty() {
                    return Err(ChatError::ConversationNotFound);
                }
                self.members
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(conversation, loaded.clone());
                loaded
            }
        };
        if members.contains(&user) {
            Ok(members)
        } else {
            Err(ChatError::ConversationNotFound)
        }
    }

    /// Opens the one-to-one conversation of `user` and `peer`. Only a student starts one,
    /// with a psychiatrist; a psychiatrist only finds one a student already started. The
    /// refusals do not tell whether an id belongs to anyone: a student asking for a
    /// non-psychiatrist hears "no such user", a psychiatrist asking for a student who never
    /// wrote to them hears the same "not found" whether that student exists or not.
    pub async fn open(
        &self,
        user: UserId,
        role: Role,
        peer: UserId,
    ) -> Result<(ConversationId, Person), ChatError> {
        let id = match role {
            Role::Student => {
                let psychiatrist = users::find_by_id(&self.db, peer)
                    .await?
                    .filter(|p| p.role == Role::Psychiatrist)
                    .ok_or(ChatError::UserNotFound)?;
                conversations::open_direct(&self.db, user, psychiatrist.id).await?
            }
            Role::Psychiatrist => conversations::find_direct(&self.db, peer, user)
                .await?
                .ok_or(ChatError::ConversationNotFound)?,
        };
        Ok((id, self.peer(user, id).await?))
    }

    /// Checks and stores a message. Returns only once it is committed.
    pub async fn send(&self, sender: UserId, request: SendRequest) -> Result<Sent, ChatError> {
        let body = clean_body(&request.body)?;
        let members = self
            .members_if_member(sender, request.conversation_id)
            .await?;
        if !self.limiter.try_acquire(sender) {
            return Err(ChatError::RateLimited);
        }
        let created_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(|_| ChatError::Internal)?;
        let new = messages::NewMessage {
            conversation_id: request.conversation_id,
            sender_id: sender,
            client_id: request.client_id,
            body: body.to_owned(),
            created_at,
        };
        match self.writer.insert(new).await? {
            messages::Inserted::New(message) => Ok(Sent {
                message,
                members,
                fresh: true,
            }),
            messages::Inserted::Existing(message)
                if message.conversation_id == request.conversation_id =>
            {
                Ok(Sent {
                    message,
                    members,
                    fresh: false,
                })
            }
            messages::Inserted::Existing(_) => Err(ChatError::ClientIdReused),
        }
    }

    /// Everything newer than `after` in the user's conversations, for a reconnecting client.
    pub async fn replay(&self, user: UserId, after: MessageId) -> Result<Replay, ChatError> {
        let found = messages::after_for_user(&self.db, user, after, REPLAY_LIMIT + 1).await?;
        if found.len() > REPLAY_LIMIT as usize {
            return Ok(Replay::TooLarge);
        }
        Ok(Replay::Messages(found))
    }

    /// The user's conversations, most recent first.
    pub async fn conversations(&self, user: UserId) -> Result<Vec<ConversationSummary>, ChatError> {
        Ok(conversations::list_for(&self.db, user).await?)
    }

    /// A page of history, oldest first, if the user is a member.
    pub async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        before: Option<MessageId>,
    ) -> Result<Vec<Message>, ChatError> {
        self.members_if_member(user, conversation).await?;
        Ok(messages::page(&self.db, conversation, before, PAGE_SIZE).await?)
    }

    /// Checks a typing signal; answers the members to relay it to (everyone but the typist).
    pub async fn typing(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Vec<UserId>, ChatError> {
        let members = self.members_if_member(user, conversation).await?;
        if !self.typing_limiter.try_acquire(user) {
            return Err(ChatError::RateLimited);
        }
        Ok(members.iter().copied().filter(|m| *m != user).collect())
    }

    /// Moves the user's read marker forward; answers the marker now stored (never lower than
    /// before) and the members to tell.
    pub async fn mark_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        read: MessageId,
    ) -> Result<(MessageId, Option<String>, Arc<[UserId]>), ChatError> {
        let members = self.members_if_member(user, conversation).await?;
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .map_err(|_| ChatError::Internal)?;
        let (marker, at) = conversations::mark_read(&self.db, conversation, user, read, &now)
            .await?
            .ok_or(ChatError::UnknownMessage)?;
        Ok((marker, at, members))
    }

    /// How far `member` has read in `conversation` (0 if never), and when. Callers check
    /// membership.
    pub async fn read_marker(
        &self,
        conversation: ConversationId,
        member: UserId,
    ) -> Result<(MessageId, Option<String>), ChatError> {
        Ok(conversations::read_marker(&self.db, conversation, member).await?)
    }

    /// The other member of a one-to-one conversation the user is in.
    pub async fn peer(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Person, ChatError> {
        let members = self.members_if_member(user, conversation).await?;
        let peer = members
            .iter()
            .find(|m| **m != user)
            .copied()
            .ok_or(ChatError::ConversationNotFound)?;
        let record = users::find_by_id(&self.db, peer)
            .await?
            .ok_or(ChatError::UserNotFound)?;
        Ok(Person {
            id: record.id,
            display_name: record.display_name,
            role: record.role,
            bio: record.bio,
        })
    }

    /// The psychiatrists a student can write to.
    pub async fn directory(&self) -> Result<Vec<Person>, ChatError> {
        Ok(users::psychiatrists(&self.db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(clean_body("  hi \n").unwrap(), "hi");
        assert!(matches!(clean_body(" \n\t "), Err(ChatError::EmptyBody)));
        assert!(clean_body(&"é".repeat(4000)).is_ok());
        assert!(matches!(
            clean_body(&"a".repeat(4001)),
            Err(ChatError::BodyTooLong)
        ));
    }

    #[test]
    fn client_ids_are_uuids() {
        let id = parse_client_id("6F9619FF-8B86-4011-B42D-00C04FC964FF").unwrap();
        assert_eq!(id.0, "6f9619ff-8b86-4011-b42d-00c04fc964ff");
        assert!(parse_client_id("not-a-uuid").is_err());
    }
}
