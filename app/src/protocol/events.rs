//! The Socket.IO contract (docs/protocol.md): event names, and one type per payload and per
//! ack. The server decodes what clients send with these types and the browser encodes them
//! from the same ones, so the two cannot drift.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::groups::{
    AnswerInvitation, Author, CreateGroup, Group, GroupAnswered, GroupClosed as GroupClosedUpdate,
    GroupCreated, GroupGone, InGroup, InviteToGroup, MemberUpdate, MessageRemoved, RemoveMember,
    RemoveMessage,
};
use super::timestamp::{self, Timestamp};
use super::{ConversationId, Message, MessageId, Person, UserId};

/// The `connect_error` message of a node that cannot serve sockets now: try again shortly.
pub const UNAVAILABLE: &str = "unavailable: try again";

/// An event a client emits: its name, the one payload type it carries, and the one type
/// its ack answers with (inside [`Ack`]). The server registers its handlers by these and
/// the browser emits by them, so a name cannot be paired with another shape.
pub trait ClientEvent {
    /// The event's name on the wire.
    const NAME: &'static str;
    /// What `invalid_payload` says when the payload is not this shape.
    const SHAPE: &'static str;
    type Payload: Serialize + DeserializeOwned;
    type Ack: Serialize + DeserializeOwned;
}

/// An event the server emits: its name and the one payload type it carries.
pub trait ServerEvent {
    /// The event's name on the wire.
    const NAME: &'static str;
    type Payload: Serialize + DeserializeOwned;
}

/// Declares client events: `Name = "wire:name" (Payload => Ack), "shape";`.
macro_rules! client_events {
    ($($(#[$doc:meta])* $event:ident = $name:literal ($payload:ty => $ack:ty), $shape:literal;)*) => {$(
        $(#[$doc])*
        pub struct $event;
        impl ClientEvent for $event {
            const NAME: &'static str = $name;
            const SHAPE: &'static str = $shape;
            type Payload = $payload;
            type Ack = $ack;
        }
    )*};
}

/// Declares server events: `Name = "wire:name" (Payload);`.
macro_rules! server_events {
    ($($(#[$doc:meta])* $event:ident = $name:literal ($payload:ty);)*) => {$(
        $(#[$doc])*
        pub struct $event;
        impl ServerEvent for $event {
            const NAME: &'static str = $name;
            type Payload = $payload;
        }
    )*};
}

/// Client → server events. `typing` and `conversation:read` are also names of server →
/// client events (the design's contract); in each direction a name has one shape.
pub mod client {
    use super::*;

    client_events! {
        /// `conversation:open {peerId}` → `{ok, conversation: {id, peer}}`.
        ConversationOpen = "conversation:open" (OpenConversation => ConversationOpened),
            "conversation:open wants {peerId: number}";
        /// `message:send {conversationId, clientId, body}` → `{ok, message}` once committed.
        MessageSend = "message:send" (SendMessage => MessageSent),
            "message:send wants {conversationId: number, clientId: string, body: string}";
        /// `typing {conversationId, typing}` → `{ok}`; relayed to the other members.
        Typing = "typing" (TypingSignal => Done),
            "typing wants {conversationId: number, typing: boolean}";
        /// `conversation:read {conversationId, lastReadId}` → `{ok, lastReadId}` (the
        /// stored marker, never lower than before).
        ConversationRead = "conversation:read" (MarkRead => ReadStored),
            "conversation:read wants {conversationId: number, lastReadId: number}";
        /// `attention {visible}` → `{ok}`: whether this tab is in view (a socket counts as
        /// watching from its connection until it says it is hidden).
        Attention = "attention" (AttentionSignal => Done),
            "attention wants {visible: boolean}";
        /// `group:create {name, description, memberLimit?}` → `{ok, conversation}` (a
        /// psychiatrist; they lead it).
        GroupCreate = "group:create" (CreateGroup => GroupCreated),
            "group:create wants {name: string, description: string, memberLimit?: number}";
        /// `group:invite {conversationId, studentId}` → `{ok}` (the leader).
        GroupInvite = "group:invite" (InviteToGroup => Done),
            "group:invite wants {conversationId: number, studentId: number}";
        /// `group:answer {conversationId, accept, alias?}` → `{ok, conversation}` (the
        /// group if joined, else null).
        GroupAnswer = "group:answer" (AnswerInvitation => GroupAnswered),
            "group:answer wants {conversationId: number, accept: boolean, alias?: string | null}";
        /// `group:leave {conversationId}` → `{ok}` (a student member).
        GroupLeave = "group:leave" (InGroup => Done),
            "group:leave wants {conversationId: number}";
        /// `group:remove {conversationId, memberId}` → `{ok}` (the leader).
        GroupRemove = "group:remove" (RemoveMember => Done),
            "group:remove wants {conversationId: number, memberId: number}";
        /// `message:remove {conversationId, messageId}` → `{ok}` (the leader).
        MessageRemove = "message:remove" (RemoveMessage => Done),
            "message:remove wants {conversationId: number, messageId: number}";
        /// `group:close {conversationId}` → `{ok}` (the leader): read-only for everyone.
        GroupClose = "group:close" (InGroup => Done),
            "group:close wants {conversationId: number}";
    }
}

/// Server → client events.
pub mod server {
    use super::*;

    server_events! {
        /// A message was stored: to every socket of every member, the sender's included.
        MessageNew = "message:new" (Message);
        /// A member started or stopped typing (never to the typist).
        Typing = "typing" (TypingUpdate);
        /// A member's read marker moved.
        ConversationRead = "conversation:read" (ReadUpdate);
        /// Someone this user may see came online or went offline.
        Presence = "presence" (PresenceUpdate);
        /// What a fresh connection learns at once about presence.
        PresenceSnapshot = "presence:snapshot" (super::PresenceSnapshot);
        /// To the member's own sockets: they marked a conversation handled or unread in
        /// another tab.
        ConversationMarked = "conversation:marked" (super::ConversationMarked);
        /// To an invited student: a group's invitation, with the group.
        GroupInvited = "group:invited" (Group);
        /// To the members: someone joined, left or was removed.
        GroupMember = "group:member" (MemberUpdate);
        /// To a removed member's sockets: the group is no longer theirs.
        GroupRemoved = "group:removed" (GroupGone);
        /// To the members: the leader removed a message.
        MessageRemoved = "message:removed" (super::MessageRemoved);
        /// To the members: the leader closed the group (read-only since).
        GroupClosed = "group:closed" (GroupClosedUpdate);
        /// The catch-up gap is too large: reload history over HTTP.
        SyncReload = "sync:reload" (Done);
        /// This node's link to the other nodes was interrupted: reconnect (which catches
        /// up from the database, and may land on another node).
        Reconnect = "sync:reconnect" (Done);
    }
}

/// The handshake's `auth`: `lastSeenId` asks for catch-up, `presenceSince` (the server's
/// clock) for who went offline while the client was away. Both optional; an unreadable
/// `presenceSince` counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_id: Option<MessageId>,
    #[serde(
        default,
        deserialize_with = "timestamp::lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub presence_since: Option<Timestamp>,
}

// ---- client → server ----

/// A client→server payload, which must be a JSON object. serde's derived structs also
/// accept an array of the fields in order (`[1, "<uuid>", "hi"]`); the contract does not,
/// so every event's payload is decoded through this and anything but an object is
/// `invalid_payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for OnlyMaps<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<T, M::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(OnlyMaps(std::marker::PhantomData))
            .map(Object)
    }
}

/// `conversation:open`: the conversation with this person (a student names a psychiatrist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenConversation {
    pub peer_id: UserId,
}

/// `message:send`. `client_id` is checked as a UUID by the server (its own error code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    pub conversation_id: ConversationId,
    pub client_id: String,
    pub body: String,
}

/// `typing` client → server: the sender started or stopped typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingSignal {
    pub conversation_id: ConversationId,
    pub typing: bool,
}

/// `attention` client → server: this tab became visible or hidden. A tab hidden for a
/// minute no longer counts as watching, and its user is reminded by Web Push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttentionSignal {
    pub visible: bool,
}

/// `conversation:read` client → server: the newest message the reader has seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    pub conversation_id: ConversationId,
    pub last_read_id: MessageId,
}

// ---- acks ----

/// `{ok: false, error: {code, message}}` in acks; `busy` adds `retryAfterMs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckError {
    pub code: crate::error::ErrorCode,
    pub message: String,
    /// How long the server asks the client to wait before offering the same thing again
    /// (`busy`: the more it is refusing, the longer), in milliseconds.
    #[serde(
        rename = "retryAfterMs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

impl AckError {
    /// A refusal with no retry hint.
    pub fn new(code: crate::error::ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
}

/// Every ack: `{"ok": true, ...value}` or `{"ok": false, "error": {code, message}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ack<T> {
    Ok(T),
    Err(AckError),
}

/// How an [`Ack`] is written: `ok` beside the value's own fields.
#[derive(Serialize, Deserialize)]
struct AckWire<T> {
    ok: bool,
    #[serde(flatten)]
    value: Option<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<AckError>,
}

impl<T: Serialize> Serialize for Ack<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ack::Ok(value) => AckWire {
                ok: true,
                value: Some(value),
                error: None,
            },
            Ack::Err(error) => AckWire {
                ok: false,
                value: None,
                error: Some(error.clone()),
            },
        }
        .serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Ack<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = AckWire::<T>::deserialize(deserializer)?;
        match (wire.ok, wire.value, wire.error) {
            (true, Some(value), _) => Ok(Ack::Ok(value)),
            (false, _, Some(error)) => Ok(Ack::Err(error)),
            _ => Err(serde::de::Error::custom(
                "an ack needs its value or its error",
            )),
        }
    }
}

impl<T> From<Result<T, AckError>> for Ack<T> {
    fn from(result: Result<T, AckError>) -> Self {
        match result {
            Ok(value) => Ack::Ok(value),
            Err(error) => Ack::Err(error),
        }
    }
}

/// `message:send`'s ack value: the stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSent {
    pub message: Message,
}

/// `conversation:open`'s ack value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationOpened {
    pub conversation: OpenedConversation,
}

/// The conversation `conversation:open` found or started, and who is in it with the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedConversation {
    pub id: ConversationId,
    pub peer: Person,
}

/// `conversation:read`'s ack value: the marker as stored (never lower than before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadStored {
    pub last_read_id: MessageId,
}

/// The ack value of events that answer nothing but `ok` (`typing`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {}

// ---- server → client ----

/// What a member marked a conversation as, for themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// A psychiatrist dealt with it without replying: no longer "awaiting reply".
    Handled,
    /// To come back to: counted unread until opened again.
    Unread,
}

/// `conversation:marked`: one of the user's tabs marked a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationMarked {
    pub conversation_id: ConversationId,
    pub mark: Mark,
}

/// `presence`: a user's status, sent only to those allowed to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceUpdate {
    pub user_id: UserId,
    pub online: bool,
    /// When they were last connected, if ever and not online now.
    pub last_seen: Option<Timestamp>,
}

/// `presence:snapshot`, on connect: who of those the user may see is online now, and who
/// went offline since the handshake's `presenceSince` (or, without one, in the last few
/// minutes), with when. Everyone else is offline with the `lastSeen` the client knew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceSnapshot {
    pub online: Vec<UserId>,
    #[serde(default)]
    pub offline: Vec<PresenceUpdate>,
    /// The server's clock when the snapshot was taken: what the client's next
    /// `presenceSince` is measured from.
    pub at: Timestamp,
}

/// `typing` server → client: someone else in the conversation is (or stopped) typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingUpdate {
    pub conversation_id: ConversationId,
    /// Who is typing; in a group, absent when a student is shown to another student.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// In a group: who is typing, as the receiver may see them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    pub typing: bool,
}

/// `conversation:read` server → client: a member has read up to `last_read_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadUpdate {
    pub conversation_id: ConversationId,
    /// Who read; in a group, absent when a student is shown to another student.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// In a group: who read, as the receiver may see them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
    pub last_read_id: MessageId,
    /// When the marker last moved forward.
    pub read_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_name_has_one_event_per_direction_and_refusals_name_their_event() {
        let client = [
            (
                client::ConversationOpen::NAME,
                client::ConversationOpen::SHAPE,
            ),
            (client::MessageSend::NAME, client::MessageSend::SHAPE),
            (client::Typing::NAME, client::Typing::SHAPE),
            (
                client::ConversationRead::NAME,
                client::ConversationRead::SHAPE,
            ),
        ];
        let server = [
            server::MessageNew::NAME,
            server::Typing::NAME,
            server::ConversationRead::NAME,
            server::Presence::NAME,
            server::PresenceSnapshot::NAME,
            server::ConversationMarked::NAME,
            server::SyncReload::NAME,
            server::Reconnect::NAME,
        ];
        let mut names: Vec<&str> = client.iter().map(|(name, _)| *name).collect();
        for (name, shape) in client {
            assert!(shape.starts_with(&format!("{name} wants {{")), "{shape}");
        }
        for direction in [&mut names, &mut server.to_vec()] {
            let all = direction.len();
            direction.sort_unstable();
            direction.dedup();
            assert_eq!(direction.len(), all, "a name used twice: {direction:?}");
        }
    }

    #[test]
    fn acks_put_ok_beside_the_value_or_the_error() {
        let ok = Ack::Ok(ReadStored {
            last_read_id: MessageId(4),
        });
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"ok": true, "lastReadId": 4})
        );
        assert_eq!(
            serde_json::to_value(Ack::Ok(Done {})).unwrap(),
            json!({"ok": true})
        );
        let refused: Ack<Done> = Ack::Err(AckError::new(
            crate::error::ErrorCode::RateLimited,
            "slow down",
        ));
        let text = serde_json::to_value(&refused).unwrap();
        assert_eq!(
            text,
            json!({"ok": false, "error": {"code": "rate_limited", "message": "slow down"}})
        );
        assert_eq!(serde_json::from_value::<Ack<Done>>(text).unwrap(), refused);
        assert_eq!(
            serde_json::from_value::<Ack<ReadStored>>(json!({"ok": true, "lastReadId": 4}))
                .unwrap(),
            ok
        );
        assert!(serde_json::from_value::<Ack<ReadStored>>(json!({"ok": true})).is_err());
    }

    #[test]
    fn an_unreadable_presence_since_is_absent_not_a_refusal() {
        let auth: HandshakeAuth =
            serde_json::from_value(json!({"lastSeenId": 7, "presenceSince": "yesterday"})).unwrap();
        assert_eq!(auth.last_seen_id, Some(MessageId(7)));
        assert_eq!(auth.presence_since, None);
    }
}
