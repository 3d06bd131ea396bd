//! Socket events for conversations and messages. Each handler parses the payload, calls one
//! [`Chat`](crate::chat::Chat) method and answers with an ack; deliveries go to `user:<id>`
//! rooms. Payloads are parsed by hand from JSON so that every malformed field gets its own
//! code instead of a silently dropped event.

use app::protocol::{
    events, ConversationId, Message, MessageId, Person, ReadUpdate, TypingUpdate, UserId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, State};
use socketioxide::SocketIo;

use super::{user_rooms, Realtime};
use crate::auth::session::SocketSession;
use crate::chat::{parse_client_id, ChatError, Replay, SendRequest};

#[derive(Serialize)]
struct AckOk<'a, T: Serialize> {
    ok: bool,
    #[serde(flatten)]
    value: &'a T,
}

#[derive(Serialize)]
struct AckErr {
    ok: bool,
    error: app::protocol::AckError,
}

#[derive(Serialize)]
struct MessageAck<'a> {
    message: &'a Message,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OpenedConversation {
    id: ConversationId,
    peer: Person,
}

#[derive(Serialize)]
struct ConversationAck {
    conversation: OpenedConversation,
}

/// Answers an event: `{ok: true, ...value}` or `{ok: false, error}`. Refusals are logged by
/// code, never with the payload.
fn answer<T: Serialize>(ack: AckSender, event: &str, user: UserId, result: Result<T, ChatError>) {
    let sent = match &result {
        Ok(value) => ack.send(&AckOk { ok: true, value }),
        Err(err) => {
            tracing::info!(event, user = %user, code = err.code(), "event refused");
            ack.send(&AckErr {
                ok: false,
                error: err.to_ack(),
            })
        }
    };
    if let Err(e) = sent {
        tracing::debug!(event, error = %e, "ack not delivered");
    }
}

fn object(payload: &Value) -> Result<&serde_json::Map<String, Value>, ChatError> {
    payload.as_object().ok_or(ChatError::InvalidPayload(
        "the payload must be a JSON object",
    ))
}

/// One field of a payload, read as `T`; missing or of another type is `invalid_payload`
/// with `wrong` as the message.
fn field<'a, T>(
    fields: &'a serde_json::Map<String, Value>,
    name: &str,
    read: fn(&'a Value) -> Option<T>,
    wrong: &'static str,
) -> Result<T, ChatError> {
    fields
        .get(name)
        .and_then(read)
        .ok_or(ChatError::InvalidPayload(wrong))
}

/// The `conversationId` field every conversation event carries.
fn conversation_field(
    fields: &serde_json::Map<String, Value>,
) -> Result<ConversationId, ChatError> {
    field(
        fields,
        "conversationId",
        Value::as_i64,
        "conversationId must be a number",
    )
    .map(ConversationId)
}

/// A conversation event's fields and the `conversationId` among them.
fn conversation_event(
    payload: &Value,
) -> Result<(&serde_json::Map<String, Value>, ConversationId), ChatError> {
    let fields = object(payload)?;
    Ok((fields, conversation_field(fields)?))
}

/// `message:send`'s payload.
fn parse_send(payload: &Value) -> Result<SendRequest, ChatError> {
    let fields = object(payload)?;
    let conversation_id = conversation_field(fields)?;
    let client_id = field(
        fields,
        "clientId",
        Value::as_str,
        "clientId must be a string",
    )?;
    let body = field(fields, "body", Value::as_str, "body must be a string")?;
    Ok(SendRequest {
        conversation_id,
        client_id: parse_client_id(client_id)?,
        body: body.to_owned(),
    })
}

/// `conversation:open`'s payload: the peer's id.
fn parse_open(payload: &Value) -> Result<UserId, ChatError> {
    field(
        object(payload)?,
        "peerId",
        Value::as_i64,
        "peerId must be a number",
    )
    .map(UserId)
}

/// `typing`'s payload: the conversation, and whether typing started or stopped.
fn parse_typing(payload: &Value) -> Result<(ConversationId, bool), ChatError> {
    let (fields, conversation) = conversation_event(payload)?;
    let typing = field(fields, "typing", Value::as_bool, "typing must be a boolean")?;
    Ok((conversation, typing))
}

/// `conversation:read`'s payload: the conversation and the newest message read.
fn parse_read(payload: &Value) -> Result<(ConversationId, MessageId), ChatError> {
    let (fields, conversation) = conversation_event(payload)?;
    let read = field(
        fields,
        "lastReadId",
        Value::as_i64,
        "lastReadId must be a number",
    )?;
    Ok((conversation, MessageId(read)))
}

/// `conversation:open {peerId}` → `{ok, conversation: {id, peer}}`.
pub async fn on_open(
    io: SocketIo,
    Data(payload): Data<Value>,
    ack: AckSender,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user;
    let result = async {
        let peer = parse_open(&payload)?;
        let (id, peer) = realtime.chat.open(user.id, user.role, peer).await?;
        super::visibility::introduce(&io, &realtime, user.id, peer.id).await;
        Ok(ConversationAck {
            conversation: OpenedConversation { id, peer },
        })
    }
    .await;
    answer(ack, events::CONVERSATION_OPEN, user.id, result);
}

/// `message:send {conversationId, clientId, body}` → `{ok, message}` once committed, then
/// `message:new` to every socket of every member (a repeat is acked, not emitted again).
pub async fn on_send(
    io: SocketIo,
    Data(payload): Data<Value>,
    ack: AckSender,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user.id;
    let sent = match parse_send(&payload) {
        Ok(request) => realtime.chat.send(user, request).await,
        Err(err) => Err(err),
    };
    let Ok(sent) = sent else {
        answer::<()>(ack, events::MESSAGE_SEND, user, sent.map(|_| ()));
        return;
    };
    answer(
        ack,
        events::MESSAGE_SEND,
        user,
        Ok(MessageAck {
            message: &sent.message,
        }),
    );
    super::deliver(&io, &sent).await;
}

/// `typing {conversationId, typing}` → relayed as `typing {conversationId, userId, typing}`
/// to the other members' sockets only (never to the typist's), then acked `{ok: true}`.
pub async fn on_typing(
    io: SocketIo,
    Data(payload): Data<Value>,
    ack: AckSender,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user.id;
    let result = async {
        let (conversation, typing) = parse_typing(&payload)?;
        let others = realtime.chat.typing(user, conversation).await?;
        let update = TypingUpdate {
            conversation_id: conversation,
            user_id: user,
            typing,
        };
        let rooms = user_rooms(others);
        if !rooms.is_empty() {
            let _ = io.to(rooms).emit(events::TYPING, &update).await;
        }
        Ok(Empty {})
    }
    .await;
    answer(ack, events::TYPING, user, result);
}

/// `conversation:read {conversationId, lastReadId}` → stores the marker (never backwards),
/// acks `{ok, lastReadId}` with the stored value, and tells the other members and the
/// reader's other sockets.
pub async fn on_read(
    socket: SocketRef,
    Data(payload): Data<Value>,
    ack: AckSender,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user.id;
    let result = async {
        let (conversation, read) = parse_read(&payload)?;
        let (marker, read_at, members) = realtime.chat.mark_read(user, conversation, read).await?;
        let update = ReadUpdate {
            conversation_id: conversation,
            user_id: user,
            last_read_id: marker,
            read_at,
        };
        let rooms = user_rooms(members.iter().copied());
        // Everyone in those rooms but this socket: the peer, and the reader's other tabs.
        let _ = socket
            .broadcast()
            .to(rooms)
            .emit(events::CONVERSATION_READ, &update)
            .await;
        Ok(ReadAck {
            last_read_id: marker,
        })
    }
    .await;
    answer(ack, events::CONVERSATION_READ, user, result);
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadAck {
    last_read_id: MessageId,
}

/// The handshake `auth`: `{lastSeenId}` asks for catch-up, `{presenceSince}` (RFC 3339, the
/// server's clock) for who went offline while the client was away.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeAuth {
    pub last_seen_id: Option<i64>,
    pub presence_since: Option<String>,
}

/// Replays, in id order, what the user missed since `lastSeenId`, or tells the client to
/// reload when the gap is too large. Called after the socket joined its rooms, so nothing
/// committed meanwhile is missed (the client drops ids it already has).
pub async fn replay(socket: &SocketRef, realtime: &Realtime, user: UserId, after: Option<i64>) {
    let Some(after) = after else {
        return;
    };
    match realtime.chat.replay(user, MessageId(after)).await {
        Ok(Replay::Messages(messages)) => {
            for message in &messages {
                if socket.emit(events::MESSAGE_NEW, message).is_err() {
                    return;
                }
            }
        }
        Ok(Replay::TooLarge) => {
            let _ = socket.emit(events::SYNC_RELOAD, &serde_json::json!({}));
        }
        Err(err) => {
            tracing::warn!(user = %user, code = err.code(), "catch-up failed");
            let _ = socket.emit(events::SYNC_RELOAD, &serde_json::json!({}));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::chat::clean_body;

    /// Any JSON value, nested a few levels, with the field names the events use mixed in.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,40}".prop_map(Value::from),
            Just(json!("6f9619ff-8b86-4011-b42d-00c04fc964ff")),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            let key = prop_oneof![
                Just("conversationId".to_owned()),
                Just("clientId".to_owned()),
                Just("body".to_owned()),
                Just("peerId".to_owned()),
                Just("typing".to_owned()),
                Just("lastReadId".to_owned()),
                Just("lastSeenId".to_owned()),
                Just("presenceSince".to_owned()),
                ".{0,8}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(key, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The codes a refused payload may answer with (docs/protocol.md).
    const PAYLOAD_CODES: &[&str] = &[
        "invalid_payload",
        "invalid_client_id",
        "empty_body",
        "body_too_long",
    ];

    fn coded<T>(result: Result<T, ChatError>) -> Result<(), TestCaseError> {
        if let Err(err) = result {
            let ack = err.to_ack();
            prop_assert!(PAYLOAD_CODES.contains(&ack.code.as_str()), "{}", ack.code);
            prop_assert!(!ack.message.is_empty());
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_event_payload_decodes_or_gets_a_coded_refusal(payload in any_json()) {
            coded(parse_send(&payload).and_then(|req| clean_body(&req.body).map(|_| ())))?;
            coded(parse_open(&payload))?;
            coded(parse_typing(&payload))?;
            coded(parse_read(&payload))?;
            // The handshake's auth is optional: anything unreadable is treated as absent.
            let _ = serde_json::from_value::<HandshakeAuth>(payload);
        }

        #[test]
        fn well_formed_sends_decode(conversation in any::<i64>(), body in ".{0,50}") {
            let payload = json!({
                "conversationId": conversation,
                "clientId": "6F9619FF-8B86-4011-B42D-00C04FC964FF",
                "body": body,
            });
            let request = parse_send(&payload).expect("decodes");
            prop_assert_eq!(request.conversation_id, ConversationId(conversation));
            prop_assert_eq!(request.client_id.0, "6f9619ff-8b86-4011-b42d-00c04fc964ff");
        }
    }
}
