//! Socket events for conversations and messages. Each handler decodes its payload into the
//! shared protocol type, calls one [`Chat`] method and acks; deliveries are the domain's (it
//! publishes through the port). A payload that does not decode is answered
//! `invalid_payload` with the shape the event wants, never dropped silently.

use app::protocol::{
    events, Ack, ConversationOpened, Done, MarkRead, Message, MessageId, MessageSent, Object,
    OpenConversation, OpenedConversation, ReadStored, SendMessage, TypingSignal, UserId,
};
use serde::Serialize;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};

use super::Realtime;
use crate::auth::session::SocketSession;
use crate::chat::{parse_client_id, Chat, ChatError, Connection, Replay, SendRequest};

/// A decoded payload (a JSON object), or `invalid_payload` saying what the event wants.
fn decoded<T, E>(payload: Result<Object<T>, E>, shape: &'static str) -> Result<T, ChatError> {
    payload
        .map(|Object(payload)| payload)
        .map_err(|_| ChatError::InvalidPayload(shape))
}

/// Answers an event with `{ok: true, ...value}` or `{ok: false, error}`, logging a refusal
/// by its code (never with the payload) or a failure with its causes.
fn answer<T: Serialize, A: Adapter>(
    ack: AckSender<A>,
    event: &str,
    user: UserId,
    result: Result<T, ChatError>,
) {
    let ack_result = ack.send(&Ack::from(result.map_err(|err| {
        err.log(event, user);
        err.to_ack()
    })));
    if let Err(e) = ack_result {
        tracing::debug!(event, error = %e, "ack not delivered");
    }
}

/// `conversation:open {peerId}` → `{ok, conversation: {id, peer}}`.
pub async fn on_open<A: Adapter>(
    TryData(payload): TryData<Object<OpenConversation>>,
    ack: AckSender<A>,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user;
    let result = async {
        let OpenConversation { peer_id } = decoded(payload, OpenConversation::SHAPE)?;
        let (id, peer) = realtime.chat.open(user.id, user.role, peer_id).await?;
        Ok(ConversationOpened {
            conversation: OpenedConversation { id, peer },
        })
    }
    .await;
    answer(ack, events::CONVERSATION_OPEN, user.id, result);
}

/// The request a `message:send` payload makes.
fn send_request(payload: SendMessage) -> Result<SendRequest, ChatError> {
    Ok(SendRequest {
        conversation_id: payload.conversation_id,
        client_id: parse_client_id(&payload.client_id)?,
        body: payload.body,
    })
}

/// `message:send {conversationId, clientId, body}` → `{ok, message}` once committed; every
/// socket of every member gets `message:new` (a repeat is acked, not delivered again).
pub async fn on_send<A: Adapter>(
    TryData(payload): TryData<Object<SendMessage>>,
    ack: AckSender<A>,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user.id;
    let result = async {
        let request = send_request(decoded(payload, SendMessage::SHAPE)?)?;
        let message = realtime.chat.send(user, request).await?;
        Ok(MessageSent { message })
    }
    .await;
    answer(ack, events::MESSAGE_SEND, user, result);
}

/// `typing {conversationId, typing}` → relayed as `typing {conversationId, userId, typing}`
/// to the other members' sockets only (never to the typist's), then acked `{ok: true}`.
pub async fn on_typing<A: Adapter>(
    TryData(payload): TryData<Object<TypingSignal>>,
    ack: AckSender<A>,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user.id;
    let result = async {
        let signal = decoded(payload, TypingSignal::SHAPE)?;
        realtime
            .chat
            .typing(user, signal.conversation_id, signal.typing)
            .await?;
        Ok(Done {})
    }
    .await;
    answer(ack, events::TYPING, user, result);
}

/// `conversation:read {conversationId, lastReadId}` → stores the marker (never backwards),
/// acks `{ok, lastReadId}` with the stored value; the other members and the reader's other
/// sockets are told.
pub async fn on_read<A: Adapter>(
    socket: SocketRef<A>,
    TryData(payload): TryData<Object<MarkRead>>,
    ack: AckSender<A>,
    State(realtime): State<Realtime>,
    Extension(session): Extension<SocketSession>,
) {
    let user = session.user.id;
    let result = async {
        let read = decoded(payload, MarkRead::SHAPE)?;
        let from = Connection(socket.id.to_string());
        let marker = realtime
            .chat
            .mark_read(user, read.conversation_id, read.last_read_id, Some(from))
            .await?;
        Ok(ReadStored {
            last_read_id: marker,
        })
    }
    .await;
    answer(ack, events::CONVERSATION_READ, user, result);
}

/// Replays, in id order, what the user missed since `lastSeenId`, or tells the client to
/// reload when the gap is too large. Called after the socket joined its rooms, so nothing
/// committed meanwhile is missed (the client drops ids it already has).
pub async fn replay<A: Adapter>(
    socket: &SocketRef<A>,
    chat: &Chat,
    user: UserId,
    after: Option<MessageId>,
) {
    let Some(after) = after else {
        return;
    };
    match chat.replay(user, after).await {
        Ok(Replay::Messages(messages)) => {
            for message in &messages {
                if let Err(err) = socket.emit::<Message>(events::MESSAGE_NEW, message) {
                    // Its queue is full or it is gone: a client still there reconnects and
                    // catches up from the newest message it did receive.
                    tracing::warn!(user = %user, error = %err, "catch-up cut short: disconnecting");
                    let _ = socket.clone().disconnect();
                    return;
                }
            }
        }
        Ok(Replay::TooLarge) => {
            let _ = socket.emit(events::SYNC_RELOAD, &Done {});
        }
        Err(err) => {
            err.log("catch-up", user);
            let _ = socket.emit(events::SYNC_RELOAD, &Done {});
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};

    use super::*;
    use crate::chat::clean_body;

    /// Decodes as the handlers do (`TryData` is serde over the event's JSON).
    fn decode<T: DeserializeOwned>(payload: &Value, shape: &'static str) -> Result<T, ChatError> {
        decoded(serde_json::from_value::<Object<T>>(payload.clone()), shape)
    }

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
        "invalid_body",
    ];

    fn coded<T>(result: Result<T, ChatError>) -> Result<(), TestCaseError> {
        if let Err(err) = result {
            let ack = err.to_ack();
            prop_assert!(PAYLOAD_CODES.contains(&ack.code.as_str()), "{}", ack.code);
            prop_assert!(!ack.message.is_empty());
        }
        Ok(())
    }

    #[test]
    fn each_wrong_field_gets_the_code_it_had() {
        let send = |payload: Value| {
            decode::<SendMessage>(&payload, SendMessage::SHAPE)
                .and_then(send_request)
                .map(|_| ())
                .map_err(|e| e.code())
        };
        let uuid = "6f9619ff-8b86-4011-b42d-00c04fc964ff";
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": uuid, "body": "hi"})),
            Ok(())
        );
        assert_eq!(send(json!("hi")), Err("invalid_payload"));
        // serde's derived structs would take the fields in order from an array.
        assert_eq!(send(json!([1, uuid, "hi"])), Err("invalid_payload"));
        assert_eq!(
            send(json!({"conversationId": "1", "clientId": uuid, "body": "hi"})),
            Err("invalid_payload")
        );
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": 7, "body": "hi"})),
            Err("invalid_payload")
        );
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": "nope", "body": "hi"})),
            Err("invalid_client_id")
        );
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": uuid})),
            Err("invalid_payload")
        );
    }

    #[test]
    fn a_lone_surrogate_escape_is_an_invalid_payload() {
        // JSON can spell a lone surrogate; a Rust string cannot hold one.
        let raw = r#"{"conversationId":1,"clientId":"6f9619ff-8b86-4011-b42d-00c04fc964ff","body":"a\ud800b"}"#;
        let payload = serde_json::from_str::<Object<SendMessage>>(raw);
        assert_eq!(
            decoded(payload, SendMessage::SHAPE)
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("invalid_payload")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_event_payload_decodes_or_gets_a_coded_refusal(payload in any_json()) {
            coded(
                decode::<SendMessage>(&payload, SendMessage::SHAPE)
                    .and_then(send_request)
                    .and_then(|req| clean_body(&req.body).map(|_| ())),
            )?;
            coded(decode::<OpenConversation>(&payload, OpenConversation::SHAPE))?;
            coded(decode::<TypingSignal>(&payload, TypingSignal::SHAPE))?;
            coded(decode::<MarkRead>(&payload, MarkRead::SHAPE))?;
            // The handshake's auth is optional: anything unreadable is treated as absent.
            let _ = serde_json::from_value::<app::protocol::HandshakeAuth>(payload);
        }

        #[test]
        fn well_formed_sends_decode(conversation in any::<i64>(), body in ".{0,50}") {
            let payload = json!({
                "conversationId": conversation,
                "clientId": "6F9619FF-8B86-4011-B42D-00C04FC964FF",
                "body": body,
            });
            let request = decode::<SendMessage>(&payload, SendMessage::SHAPE)
                .and_then(send_request)
                .expect("decodes");
            prop_assert_eq!(request.conversation_id, app::protocol::ConversationId(conversation));
            prop_assert_eq!(request.client_id.0, "6f9619ff-8b86-4011-b42d-00c04fc964ff");
        }
    }
}
