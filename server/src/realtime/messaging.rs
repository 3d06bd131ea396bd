//! Socket events for conversations and messages. Each client event ([`ClientEvent`]) is
//! routed with [`Routes::on`] (one table for every socket; a socket's [`Dispatch`] finds
//! the event there), which decodes its one payload type, calls its handler (one
//! [`Chat`] method) and acks with its one ack type; deliveries are the domain's (it
//! publishes through the port). A payload that does not decode is answered
//! `invalid_payload` with the shape the event wants, never dropped silently.
//!
//! `message:send` is routed with [`Routes::on_admitted`]: the domain is asked whether it takes
//! a message at all before the payload is decoded, so that a server past its limit answers
//! `busy` for as little as it can (the refusals are most of its work then).

use std::future::Future;
use std::sync::Arc;

use app::protocol::events::{client, server, ClientEvent, ServerEvent};
use app::protocol::{
    Ack, ConversationOpened, Done, MarkRead, MessageId, MessageSent, Object, OpenConversation,
    OpenedConversation, ReadStored, SendMessage, TypingSignal, UserId,
};
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, Extension, SocketRef, State, TryData};
use socketioxide::handler::{FromMessageParts, MessageHandler, Value};
use socketioxide::socket::Socket;

use crate::auth::session::SessionUser;
use crate::chat::{parse_client_id, Admitted, Chat, ChatError, Connection, Replay, SendRequest};
#[cfg(test)]
use app::error::ErrorCode;

/// Who emitted a client event, and where: what a handler gets beside the payload.
pub struct Caller<A: Adapter> {
    pub socket: SocketRef<A>,
    pub chat: Arc<Chat>,
    pub user: SessionUser,
}

/// A client event's payload as `E` wants it (a JSON object), or `invalid_payload` saying its
/// shape. Read only once the checks that can refuse the event outright have passed.
fn decode<E: ClientEvent, A: Adapter>(
    socket: &Arc<Socket<A>>,
    mut value: Value,
) -> Result<E::Payload, ChatError> {
    let Ok(TryData(payload)) =
        TryData::<Object<E::Payload>>::from_message_parts(socket, &mut value, &None);
    decoded::<E, _>(payload)
}

/// A decoded payload (a JSON object), or `invalid_payload` saying what the event wants.
fn decoded<E: ClientEvent, Err>(
    payload: Result<Object<E::Payload>, Err>,
) -> Result<E::Payload, ChatError> {
    payload
        .map(|Object(payload)| payload)
        .map_err(|_| ChatError::InvalidPayload(E::SHAPE))
}

/// A client event's handler as the route table keeps it.
type Route<A> = Box<dyn Fn(Arc<Socket<A>>, Value, Option<i64>) + Send + Sync>;

/// Every client event's handler, made once for all sockets. Each socket registers only
/// [`Dispatch`], which finds the event here: a socket that registered its own handlers
/// would hold a table of them for as long as it lives (≈ 0.7 KB a socket, heaptrack).
pub struct Routes<A: Adapter> {
    by_name: Vec<(&'static str, Route<A>)>,
}

impl<A: Adapter> Routes<A> {
    /// The handlers of every client event: chat, groups and attention signals (a hidden
    /// tab stops counting as watching after `watching_for`).
    pub fn new(watching_for: std::time::Duration) -> Self {
        let mut routes = Self {
            by_name: Vec::new(),
        };
        routes.on_admitted::<client::MessageSend, _, _>(send::<A>);
        routes.on::<client::ConversationOpen, _, _>(open::<A>);
        routes.on::<client::Typing, _, _>(typing::<A>);
        routes.on::<client::ConversationRead, _, _>(read::<A>);
        super::groups::routes(&mut routes);
        super::attention::routes(&mut routes, watching_for);
        routes
    }

    /// Routes the client event `E` to `handler`: decodes `E::Payload` (anything but such
    /// an object is `invalid_payload`, saying `E::SHAPE`), runs the handler, and acks
    /// `{ok: true, ...E::Ack}` or `{ok: false, error}`, logging a refusal by its code
    /// (never with the payload) or a failure with its causes.
    pub fn on<E, H, Fut>(&mut self, handler: H)
    where
        E: ClientEvent + 'static,
        E::Payload: Send + Sync + 'static,
        E::Ack: Send + 'static,
        H: Fn(Caller<A>, E::Payload) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<E::Ack, ChatError>> + Send + 'static,
    {
        self.add::<E, _, _, _, _>(
            |_: &Chat| Ok(()),
            move |caller, (), payload| handler(caller, payload),
        );
    }

    /// Like [`Routes::on`], for an event that stores a message: the domain admits it
    /// ([`Chat::admit`]) before its payload is decoded, and a refusal is answered at once.
    pub fn on_admitted<E, H, Fut>(&mut self, handler: H)
    where
        E: ClientEvent + 'static,
        E::Payload: Send + Sync + 'static,
        E::Ack: Send + 'static,
        H: Fn(Caller<A>, Admitted, E::Payload) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<E::Ack, ChatError>> + Send + 'static,
    {
        self.add::<E, _, _, _, _>(Chat::admit, handler);
    }

    /// [`Routes::on`] and [`Routes::on_admitted`]: `gate` is asked first (its refusal is
    /// the answer), then the payload is decoded, and only then is a task spawned for the
    /// handler, with what the gate gave. A refusal (the gate's, or a payload that does not
    /// decode) is answered here, on the socket's reader, without a task: past the server's
    /// limit refusals are most of its work (the task was 1.5% of a refusal's instructions,
    /// docs/benchmarks.md). socketioxide's handlers would spawn before any check.
    fn add<E, T, G, H, Fut>(&mut self, gate: G, handler: H)
    where
        E: ClientEvent + 'static,
        E::Payload: Send + Sync + 'static,
        E::Ack: Send + 'static,
        T: Send + 'static,
        G: Fn(&Chat) -> Result<T, ChatError> + Send + Sync + 'static,
        H: Fn(Caller<A>, T, E::Payload) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<E::Ack, ChatError>> + Send + 'static,
    {
        let route = move |socket: Arc<Socket<A>>, mut value: Value, ack_id: Option<i64>| {
            let parts = (
                State::<Arc<Chat>>::from_message_parts(&socket, &mut value, &ack_id),
                Extension::<SessionUser>::from_message_parts(&socket, &mut value, &ack_id),
            );
            let (Ok(State(chat)), Ok(Extension(user))) = parts else {
                // Set before any event (the service's state, the handshake's session): as
                // socketioxide does when an extractor fails, no handler runs.
                tracing::error!(event = E::NAME, "socket without its chat state or session");
                return;
            };
            let Ok(ack) = AckSender::from_message_parts(&socket, &mut value, &ack_id);
            let taken = gate(&chat).and_then(|leave| Ok((leave, decode::<E, A>(&socket, value)?)));
            match taken {
                Err(refused) => answer::<E, A>(ack, user, Err(refused)),
                Ok((leave, payload)) => {
                    let handler = handler.clone();
                    let socket = SocketRef::from(socket);
                    tokio::spawn(async move {
                        let result = handler(Caller { socket, chat, user }, leave, payload).await;
                        answer::<E, A>(ack, user, result);
                    });
                }
            }
        };
        self.by_name.push((E::NAME, Box::new(route)));
    }
}

/// The one message handler each socket registers (as its fallback): runs the route of the
/// event's name; an event nobody handles is ignored, as socketioxide ignores it.
pub struct Dispatch<A: Adapter>(pub Arc<Routes<A>>);

/// [`Dispatch`]'s marker as a [`MessageHandler`].
pub struct ByName;

impl<A: Adapter> MessageHandler<A, ByName> for Dispatch<A> {
    fn call(&self, socket: Arc<Socket<A>>, mut value: Value, ack: Option<i64>) {
        let route = |name: &str| {
            let found = self.0.by_name.iter().find(|(known, _)| *known == name);
            found.map(|(_, route)| route)
        };
        let route = match plain_event_name(&value) {
            Some(name) => route(name),
            None => match Event::from_message_parts(&socket, &mut value, &ack) {
                Ok(Event(name)) => route(&name),
                Err(_) => None,
            },
        };
        if let Some(route) = route {
            route(socket, value, ack);
        }
    }
}

/// The event's name when the packet starts `["name"` and the name has no escapes, which is
/// how Socket.IO clients send it: read without parsing the JSON a second time (socketioxide
/// parsed it to look for a handler of its own). Anything else is left to its parser.
fn plain_event_name(value: &Value) -> Option<&str> {
    let rest = value.as_str()?.as_str().strip_prefix("[\"")?;
    let end = rest.find(['"', '\\'])?;
    (rest.as_bytes()[end] == b'"').then(|| &rest[..end])
}

/// Acks `E` with its result, logging a refusal by its code or a failure with its causes.
fn answer<E: ClientEvent, A: Adapter>(
    ack: AckSender<A>,
    user: SessionUser,
    result: Result<E::Ack, ChatError>,
) {
    let ack_result = ack.send(&Ack::from(result.map_err(|err| {
        err.log(E::NAME, user.id);
        err.to_ack()
    })));
    if let Err(e) = ack_result {
        tracing::debug!(event = E::NAME, error = %e, "ack not delivered");
    }
}

/// Emits the server event `E` to one socket.
pub fn emit<E: ServerEvent, A: Adapter>(
    socket: &SocketRef<A>,
    payload: &E::Payload,
) -> Result<(), socketioxide::SendError> {
    socket.emit(E::NAME, payload)
}

/// `conversation:open {peerId}` → `{ok, conversation: {id, peer}}`.
async fn open<A: Adapter>(
    caller: Caller<A>,
    OpenConversation { peer_id }: OpenConversation,
) -> Result<ConversationOpened, ChatError> {
    let user = caller.user;
    let (id, peer) = caller.chat.open(user.id, user.role, peer_id).await?;
    Ok(ConversationOpened {
        conversation: OpenedConversation { id, peer },
    })
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
async fn send<A: Adapter>(
    caller: Caller<A>,
    admitted: Admitted,
    payload: SendMessage,
) -> Result<MessageSent, ChatError> {
    let request = send_request(payload)?;
    let message = caller.chat.send(admitted, caller.user.id, request).await?;
    Ok(MessageSent { message })
}

/// `typing {conversationId, typing}` → relayed as `typing {conversationId, userId, typing}`
/// to the other members' sockets only (never to the typist's), then acked `{ok: true}`.
async fn typing<A: Adapter>(caller: Caller<A>, signal: TypingSignal) -> Result<Done, ChatError> {
    let (user, conversation) = (caller.user.id, signal.conversation_id);
    caller
        .chat
        .typing(user, conversation, signal.typing)
        .await?;
    Ok(Done {})
}

/// `conversation:read {conversationId, lastReadId}` → stores the marker (never backwards),
/// acks `{ok, lastReadId}` with the stored value; the other members and the reader's other
/// sockets are told.
async fn read<A: Adapter>(caller: Caller<A>, read: MarkRead) -> Result<ReadStored, ChatError> {
    let from = Connection(caller.socket.id.to_string());
    let marker = caller
        .chat
        .mark_read(
            caller.user.id,
            read.conversation_id,
            read.last_read_id,
            Some(from),
        )
        .await?;
    Ok(ReadStored {
        last_read_id: marker,
    })
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
                if let Err(err) = emit::<server::MessageNew, _>(socket, message) {
                    // Its queue is full or it is gone: a client still there reconnects and
                    // catches up from the newest message it did receive.
                    tracing::warn!(user = %user, error = %err, "catch-up cut short: disconnecting");
                    let _ = socket.clone().disconnect();
                    return;
                }
            }
        }
        Ok(Replay::TooLarge) => {
            let _ = emit::<server::SyncReload, _>(socket, &Done {});
        }
        Err(err) => {
            err.log("catch-up", user);
            let _ = emit::<server::SyncReload, _>(socket, &Done {});
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_plain_event_name_is_read_from_the_packet_and_an_escaped_one_is_left_to_the_parser() {
        use super::{client, plain_event_name, ClientEvent, Value};
        let text = |t: &str| Value::Str(t.to_owned().into(), None);
        let send = client::MessageSend::NAME;
        assert_eq!(
            plain_event_name(&text(&format!(r#"["{send}",{{"a":1}}]"#))),
            Some(send)
        );
        assert_eq!(plain_event_name(&text(r#"["typing"]"#)), Some("typing"));
        assert_eq!(plain_event_name(&text(r#"["typ\u0069ng",{}]"#)), None);
        assert_eq!(plain_event_name(&text(r#"[ "typing",{}]"#)), None);
        assert_eq!(plain_event_name(&text(r#"["unterminated"#)), None);
        assert_eq!(plain_event_name(&text(r#"{"not":"an array"}"#)), None);
    }

    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;
    use crate::chat::clean_body;

    /// Decodes as the handlers do (`TryData` is serde over the event's JSON).
    fn decode<E: ClientEvent>(payload: &Value) -> Result<E::Payload, ChatError> {
        decoded::<E, _>(serde_json::from_value::<Object<E::Payload>>(
            payload.clone(),
        ))
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
    const PAYLOAD_CODES: &[ErrorCode] = &[
        ErrorCode::InvalidPayload,
        ErrorCode::InvalidClientId,
        ErrorCode::EmptyBody,
        ErrorCode::BodyTooLong,
        ErrorCode::InvalidBody,
    ];

    fn coded<T>(result: Result<T, ChatError>) -> Result<(), TestCaseError> {
        if let Err(err) = result {
            let ack = err.to_ack();
            prop_assert!(PAYLOAD_CODES.contains(&ack.code), "{}", ack.code);
            prop_assert!(!ack.message.is_empty());
        }
        Ok(())
    }

    #[test]
    fn each_wrong_field_gets_the_code_it_had() {
        let send = |payload: Value| {
            decode::<client::MessageSend>(&payload)
                .and_then(send_request)
                .map(|_| ())
                .map_err(|e| e.code())
        };
        let uuid = "6f9619ff-8b86-4011-b42d-00c04fc964ff";
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": uuid, "body": "hi"})),
            Ok(())
        );
        assert_eq!(send(json!("hi")), Err(ErrorCode::InvalidPayload));
        // serde's derived structs would take the fields in order from an array.
        assert_eq!(send(json!([1, uuid, "hi"])), Err(ErrorCode::InvalidPayload));
        assert_eq!(
            send(json!({"conversationId": "1", "clientId": uuid, "body": "hi"})),
            Err(ErrorCode::InvalidPayload)
        );
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": 7, "body": "hi"})),
            Err(ErrorCode::InvalidPayload)
        );
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": "nope", "body": "hi"})),
            Err(ErrorCode::InvalidClientId)
        );
        assert_eq!(
            send(json!({"conversationId": 1, "clientId": uuid})),
            Err(ErrorCode::InvalidPayload)
        );
    }

    #[test]
    fn a_lone_surrogate_escape_is_an_invalid_payload() {
        // JSON can spell a lone surrogate; a Rust string cannot hold one.
        let raw = r#"{"conversationId":1,"clientId":"6f9619ff-8b86-4011-b42d-00c04fc964ff","body":"a\ud800b"}"#;
        let payload = serde_json::from_str::<Object<SendMessage>>(raw);
        assert_eq!(
            decoded::<client::MessageSend, _>(payload)
                .map(|_| ())
                .map_err(|e| e.code()),
            Err(ErrorCode::InvalidPayload)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_event_payload_decodes_or_gets_a_coded_refusal(payload in any_json()) {
            coded(
                decode::<client::MessageSend>(&payload)
                    .and_then(send_request)
                    .and_then(|req| clean_body(&req.body).map(|_| ())),
            )?;
            coded(decode::<client::ConversationOpen>(&payload))?;
            coded(decode::<client::Typing>(&payload))?;
            coded(decode::<client::ConversationRead>(&payload))?;
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
            let request = decode::<client::MessageSend>(&payload)
                .and_then(send_request)
                .expect("decodes");
            prop_assert_eq!(request.conversation_id, app::protocol::ConversationId(conversation));
            prop_assert_eq!(request.client_id.0, "6f9619ff-8b86-4011-b42d-00c04fc964ff");
        }
    }
}
