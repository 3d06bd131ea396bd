//! Wires the store to the socket (browser only): incoming messages, connection state,
//! sending with ack, retries.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::socket::{from_js, Socket};
use super::store::{ChatStore, Connection, Delivery};
use std::time::Duration;

use crate::protocol::{
    events, ConversationId, Message, MessageAck, MessageId, PresenceSnapshot, PresenceUpdate,
    ReadUpdate, SendMessage, TypingUpdate,
};

/// A peer's "typing" shows at most this long after their last signal.
const TYPING_EXPIRES: Duration = Duration::from_secs(6);
/// While typing, a signal at most this often; "stopped" after this long without a key.
const TYPING_EVERY_MS: f64 = 3000.0;
/// A dead connection is noticed only after a missed ping (socket.io: 25 s interval + 20 s
/// timeout), and `presence` events sent meanwhile are lost: on reconnect, ask for
/// departures from this long before the disconnect was noticed.
const PRESENCE_LOST_MS: f64 = 60_000.0;

/// The server's clock as this tab knows it, for `presenceSince` (the browser's clock may
/// be off; durations measured with it are not).
#[derive(Default)]
struct PresenceClock {
    /// Server time minus `Date.now()`, from the last snapshot's `at`.
    offset_ms: Cell<Option<f64>>,
    /// Sent as `presenceSince` at the next (re)connect.
    since: Rc<RefCell<Option<String>>>,
}

impl PresenceClock {
    fn snapshot_taken(&self, at: &str) {
        let server = js_sys::Date::parse(at);
        if server.is_finite() {
            self.offset_ms.set(Some(server - js_sys::Date::now()));
        }
    }

    fn disconnected(&self) {
        if let Some(offset) = self.offset_ms.get() {
            let since = js_sys::Date::now() + offset - PRESENCE_LOST_MS;
            let since = js_sys::Date::new(&since.into()).to_iso_string();
            *self.since.borrow_mut() = since.as_string();
        }
    }
}

thread_local! {
    /// This tab's one socket.
    static SOCKET: RefCell<Option<Socket>> = const { RefCell::new(None) };
    /// When this tab last sent `typing: true` (ms), and the pending "stopped" timer's token.
    static TYPING: Cell<(f64, u64)> = const { Cell::new((f64::NEG_INFINITY, 0)) };
    /// The highest id this tab has reported read, per conversation.
    static REPORTED_READ: RefCell<std::collections::HashMap<ConversationId, MessageId>> =
        RefCell::new(std::collections::HashMap::new());
}

fn socket() -> Option<Socket> {
    SOCKET.with(|s| s.borrow().clone())
}

fn emit_typing(conversation_id: ConversationId, typing: bool) {
    let Some(socket) = socket() else { return };
    spawn_local(async move {
        let payload = serde_json::json!({ "conversationId": conversation_id, "typing": typing });
        let _: Option<serde_json::Value> = socket.call(events::TYPING, &payload).await;
    });
}

/// A key was typed in the composer: `typing: true` at most every few seconds, and
/// `typing: false` once typing pauses.
pub fn typed(conversation_id: ConversationId) {
    let now = js_sys::Date::now();
    let (last, token) = TYPING.with(Cell::get);
    if now - last > TYPING_EVERY_MS {
        emit_typing(conversation_id, true);
        TYPING.with(|t| t.set((now, token + 1)));
    } else {
        TYPING.with(|t| t.set((last, token + 1)));
    }
    let mine = TYPING.with(Cell::get).1;
    set_timeout(
        move || {
            if TYPING.with(Cell::get).1 == mine {
                stopped_typing(conversation_id);
            }
        },
        Duration::from_millis(TYPING_EVERY_MS as u64),
    );
}

/// Typing ended (a pause, or the message was sent).
pub fn stopped_typing(conversation_id: ConversationId) {
    let (last, token) = TYPING.with(Cell::get);
    if last.is_finite() {
        emit_typing(conversation_id, false);
    }
    TYPING.with(|t| t.set((f64::NEG_INFINITY, token + 1)));
}

/// Reports that this tab has shown the conversation up to `id` (once per new high).
pub fn read_up_to(conversation_id: ConversationId, id: MessageId) {
    let newer = REPORTED_READ.with(|r| {
        let mut reported = r.borrow_mut();
        let entry = reported.entry(conversation_id).or_default();
        (id > *entry).then(|| *entry = id).is_some()
    });
    let Some(socket) = socket().filter(|_| newer) else {
        return;
    };
    spawn_local(async move {
        let payload = serde_json::json!({ "conversationId": conversation_id, "lastReadId": id });
        let _: Option<serde_json::Value> = socket.call(events::CONVERSATION_READ, &payload).await;
    });
}

/// Opens the tab's socket and feeds `store` from it. Called once, after hydration.
pub fn start(store: ChatStore) {
    let last_seen = Rc::new(Cell::new(store.highest_seen()));
    let clock = Rc::new(PresenceClock::default());
    let Some(socket) = Socket::connect(last_seen.clone(), clock.since.clone()) else {
        return;
    };
    let ever_connected = Rc::new(Cell::new(false));
    {
        let ever_connected = ever_connected.clone();
        socket.on("connect", move |_| {
            ever_connected.set(true);
            store.connection.set(Connection::Connected);
        });
    }
    {
        let ever_connected = ever_connected.clone();
        let lost = move |_| {
            store.connection.set(if ever_connected.get() {
                Connection::Reconnecting
            } else {
                Connection::Connecting
            })
        };
        let (clock, on_lost) = (clock.clone(), lost.clone());
        socket.on("disconnect", move |reason| {
            clock.disconnected();
            on_lost(reason)
        });
        socket.on("connect_error", lost);
    }
    socket.on(events::MESSAGE_NEW, move |payload| {
        let Some(message) = from_js::<Message>(&payload) else {
            return;
        };
        last_seen.set(last_seen.get().max(message.id.0));
        notify(store, &message);
        if !store.receive(&message) {
            // A conversation this tab has not listed yet (a student wrote for the first time).
            spawn_local(async move {
                if let Ok(list) = crate::api::chat::conversations().await {
                    store.conversations.set(list);
                    store.receive(&message);
                }
            });
        }
    });
    socket.on(events::PRESENCE, move |payload| {
        if let Some(update) = from_js::<PresenceUpdate>(&payload) {
            store.set_presence(update);
        }
    });
    socket.on(events::PRESENCE_SNAPSHOT, move |payload| {
        if let Some(snapshot) = from_js::<PresenceSnapshot>(&payload) {
            clock.snapshot_taken(&snapshot.at);
            store.apply_presence_snapshot(&snapshot);
        }
    });
    socket.on(events::TYPING, move |payload| {
        let Some(update) = from_js::<TypingUpdate>(&payload) else {
            return;
        };
        if let Some(token) = store.receive_typing(&update) {
            // Expires by itself if the "stopped" signal never comes.
            set_timeout(
                move || {
                    if store.peer_typing.get_untracked() == Some(token) {
                        store.peer_typing.set(None);
                    }
                },
                TYPING_EXPIRES,
            );
        }
    });
    socket.on(events::CONVERSATION_READ, move |payload| {
        if let Some(update) = from_js::<ReadUpdate>(&payload) {
            store.receive_read(&update);
        }
    });
    socket.on(events::SYNC_RELOAD, |_| {
        let _ = window().location().reload();
    });
    SOCKET.with(|s| *s.borrow_mut() = Some(socket));
}

/// Sends (or resends) one of our messages; the store shows it as sending until the ack.
pub fn send(store: ChatStore, conversation_id: ConversationId, client_id: String, body: String) {
    let Some(socket) = socket() else {
        store.set_delivery(&client_id, Delivery::Failed, Some("Not connected.".into()));
        return;
    };
    spawn_local(async move {
        let payload = SendMessage {
            conversation_id,
            client_id: client_id.clone(),
            body,
        };
        match socket
            .call::<_, MessageAck>(events::MESSAGE_SEND, &payload)
            .await
        {
            Some(MessageAck {
                ok: true,
                message: Some(message),
                ..
            }) => {
                store.receive(&message);
            }
            Some(MessageAck { error, .. }) => store.set_delivery(
                &client_id,
                Delivery::Failed,
                Some(error.map_or_else(|| "Refused.".to_owned(), |e| e.message)),
            ),
            None => store.set_delivery(
                &client_id,
                Delivery::Failed,
                Some("Could not reach Haven.".to_owned()),
            ),
        }
    });
}

/// A system notification for a message from someone else while this tab is hidden, if the
/// user allowed them. Notifications show on lock screens and shared displays, so they name
/// neither the sender nor the text.
fn notify(store: ChatStore, message: &Message) {
    use web_sys::{Notification, NotificationOptions, NotificationPermission};
    if message.sender_id == store.me
        || !document().hidden()
        || Notification::permission() != NotificationPermission::Granted
    {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body("You have a new message.");
    options.set_tag(&format!("conversation-{}", message.conversation_id));
    let _ = Notification::new_with_options("Haven", &options);
}
