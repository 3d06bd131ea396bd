//! Wires the store to the socket (browser only): incoming messages, connection state,
//! sending with ack, retries.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::outbox::{self, Pending};
use super::socket::Socket;
use super::store::{ChatStore, Connection};
use super::timeline::Delivery;
use crate::error::ErrorCode;
use crate::protocol::events::{self, client, server};
use crate::protocol::{
    Ack, ConversationId, Mark, MarkRead, Message, MessageId, MessageSent, SendMessage, Timestamp,
    TypingSignal,
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
    since: Rc<Cell<Option<Timestamp>>>,
}

impl PresenceClock {
    fn snapshot_taken(&self, at: Timestamp) {
        self.offset_ms
            .set(Some(at.as_millis() as f64 - js_sys::Date::now()));
    }

    fn disconnected(&self) {
        if let Some(offset) = self.offset_ms.get() {
            let since = js_sys::Date::now() + offset - PRESENCE_LOST_MS;
            self.since.set(Some(Timestamp::from_millis(since as i64)));
        }
    }
}

/// When this tab last sent `typing: true` (ms), and the pending "stopped" timer's token.
#[derive(Default)]
struct Typing {
    last_sent: Cell<Option<f64>>,
    token: Cell<u64>,
}

/// This tab's live connection and what it remembers between calls.
struct Live {
    socket: Socket,
    typing: Typing,
    /// The highest id this tab has reported read, per conversation.
    reported_read: RefCell<HashMap<ConversationId, MessageId>>,
}

/// The handle the chat's components reach the live connection through (context). Empty
/// until the socket is opened after hydration, or if the Socket.IO script did not load:
/// the page then stays a plain page.
#[derive(Clone, Copy)]
pub struct LiveHandle(StoredValue<Option<Rc<Live>>, LocalStorage>);

impl Default for LiveHandle {
    fn default() -> Self {
        LiveHandle(StoredValue::new_local(None))
    }
}

impl LiveHandle {
    fn get(self) -> Option<Rc<Live>> {
        self.0.try_get_value().flatten()
    }

    fn emit_typing(self, conversation_id: ConversationId, typing: bool) {
        let Some(live) = self.get() else { return };
        spawn_local(async move {
            let signal = TypingSignal {
                conversation_id,
                typing,
            };
            let _ = live.socket.call::<client::Typing>(&signal).await;
        });
    }

    /// A key was typed in the composer: `typing: true` at most every few seconds, and
    /// `typing: false` once typing pauses.
    pub fn typed(self, conversation_id: ConversationId) {
        let Some(live) = self.get() else { return };
        let now = js_sys::Date::now();
        let typing = &live.typing;
        if typing
            .last_sent
            .get()
            .is_none_or(|last| now - last > TYPING_EVERY_MS)
        {
            self.emit_typing(conversation_id, true);
            typing.last_sent.set(Some(now));
        }
        let mine = typing.token.get() + 1;
        typing.token.set(mine);
        set_timeout(
            move || {
                if self
                    .get()
                    .is_some_and(|live| live.typing.token.get() == mine)
                {
                    self.stopped_typing(conversation_id);
                }
            },
            Duration::from_millis(TYPING_EVERY_MS as u64),
        );
    }

    /// Typing ended (a pause, or the message was sent).
    pub fn stopped_typing(self, conversation_id: ConversationId) {
        let Some(live) = self.get() else { return };
        if live.typing.last_sent.take().is_some() {
            self.emit_typing(conversation_id, false);
        }
        live.typing.token.set(live.typing.token.get() + 1);
    }

    /// Reports that this tab has shown the conversation up to `id` (once per new high).
    pub fn read_up_to(self, conversation_id: ConversationId, id: MessageId) {
        let Some(live) = self.get() else { return };
        let newer = {
            let mut reported = live.reported_read.borrow_mut();
            let entry = reported.entry(conversation_id).or_default();
            (id > *entry).then(|| *entry = id).is_some()
        };
        if !newer {
            return;
        }
        spawn_local(async move {
            let read = MarkRead {
                conversation_id,
                last_read_id: id,
            };
            let _ = live.socket.call::<client::ConversationRead>(&read).await;
        });
    }

    /// Sends (or resends) one of our messages; the store shows it as sending until the ack,
    /// and the outbox keeps it until then in case the tab closes first.
    pub fn send(
        self,
        store: ChatStore,
        conversation_id: ConversationId,
        client_id: String,
        body: String,
    ) {
        let pending = Pending {
            conversation_id,
            client_id,
            body,
        };
        self.offer(store, pending, 0);
    }

    /// Offers `pending` to the server; `busy` answers so far for it decide the pause before
    /// the next offer if the server is busy again.
    fn offer(self, store: ChatStore, pending: Pending, busy: u32) {
        let Some(live) = self.get() else {
            let failed = Some("Not connected.".into());
            store.set_delivery(&pending.client_id, Delivery::Failed, failed);
            return;
        };
        outbox::put(store.me, pending.clone());
        spawn_local(async move {
            let payload = SendMessage {
                conversation_id: pending.conversation_id,
                client_id: pending.client_id.clone(),
                body: pending.body.clone(),
            };
            let client_id = pending.client_id.clone();
            let answer = live.socket.call::<client::MessageSend>(&payload).await;
            match answer {
                Some(Ack::Ok(MessageSent { message })) => {
                    outbox::remove(store.me, &client_id);
                    store.receive(&message);
                }
                // Not taken, the server being behind: still sending, offered again (same
                // clientId) after a pause that grows with each busy answer, and at least
                // as long as the server asked for.
                Some(Ack::Err(error)) if error.code == ErrorCode::Busy => {
                    let asked = error.retry_after_ms.map(std::time::Duration::from_millis);
                    let wait = outbox::pause_after_busy(busy, asked, js_sys::Math::random());
                    set_timeout(move || self.offer(store, pending, busy + 1), wait);
                }
                Some(Ack::Err(error)) => {
                    // Refused for good (too long, not a member…): resending cannot help.
                    outbox::remove(store.me, &client_id);
                    store.set_delivery(&client_id, Delivery::Failed, Some(error.message))
                }
                // No answer at all: it stays in the outbox for the next tab to resend.
                None => store.set_delivery(
                    &client_id,
                    Delivery::Failed,
                    Some("Could not reach Haven.".to_owned()),
                ),
            }
        });
    }

    /// Calls a client event and answers its value, or the error to show (the socket's own
    /// words, or "not connected").
    pub async fn call<E: events::ClientEvent>(self, payload: E::Payload) -> Result<E::Ack, String> {
        let Some(live) = self.get() else {
            return Err("Not connected to Haven.".to_owned());
        };
        match live.socket.call::<E>(&payload).await {
            Some(Ack::Ok(value)) => Ok(value),
            Some(Ack::Err(error)) => Err(error.message),
            None => Err("Could not reach Haven.".to_owned()),
        }
    }

    /// Opens the tab's socket and feeds `store` from it. Called once, after hydration.
    pub fn start(self, store: ChatStore) {
        let last_seen = Rc::new(Cell::new(store.highest_seen()));
        let clock = Rc::new(PresenceClock::default());
        let Some(socket) = Socket::connect(last_seen.clone(), clock.since.clone()) else {
            return;
        };
        listen(&socket, store, last_seen, clock, self);
        self.0.set_value(Some(Rc::new(Live {
            socket,
            typing: Typing::default(),
            reported_read: RefCell::new(HashMap::new()),
        })));
        self.resend_outbox(store);
    }

    /// Sends again what an earlier tab of this user left sending, with the same
    /// `clientId`s; shown as sending in the conversation it belongs to.
    fn resend_outbox(self, store: ChatStore) {
        for pending in outbox::load(store.me) {
            if store.has_client_id(&pending.client_id) {
                // Stored before that tab closed (this page was rendered with it).
                outbox::remove(store.me, &pending.client_id);
                continue;
            }
            if store.open.get_untracked() == Some(pending.conversation_id) {
                store.add_pending(pending.client_id.clone(), pending.body.clone());
            }
            self.send(
                store,
                pending.conversation_id,
                pending.client_id,
                pending.body,
            );
        }
    }
}

/// Feeds `store` from the socket's events.
fn listen(
    socket: &Socket,
    store: ChatStore,
    last_seen: Rc<Cell<MessageId>>,
    clock: Rc<PresenceClock>,
    handle: LiveHandle,
) {
    let ever_connected = Rc::new(Cell::new(false));
    // The browser's own word on the network, which the socket learns only after a ping.
    let offline_now = || !web_sys::window().is_some_and(|w| w.navigator().on_line());
    store.network_offline.set(offline_now());
    let on_network = move |_| store.network_offline.set(offline_now());
    std::mem::forget(window_event_listener(leptos::ev::online, on_network));
    std::mem::forget(window_event_listener(leptos::ev::offline, on_network));
    // Whether this tab is in view, told to the server at each connection (if hidden) and
    // each change: a person whose tabs have all been hidden a while is reminded by push.
    let attention = {
        let socket = socket.clone();
        move || {
            let socket = socket.clone();
            let visible = !document().hidden();
            spawn_local(async move {
                let _ = socket
                    .call::<client::Attention>(&crate::protocol::AttentionSignal { visible })
                    .await;
            });
        }
    };
    {
        let listener = wasm_bindgen::closure::Closure::<dyn Fn()>::new(attention.clone());
        let _ = document().add_event_listener_with_callback(
            "visibilitychange",
            wasm_bindgen::JsCast::unchecked_ref(listener.as_ref()),
        );
        listener.forget();
    }
    {
        let ever_connected = ever_connected.clone();
        socket.on_reserved("connect", move |_| {
            ever_connected.set(true);
            store.connection.set(Connection::Connected);
            // A new connection counts as watching until told otherwise.
            if document().hidden() {
                attention();
            }
        });
    }
    {
        let lost = move |_| {
            store.connection.set(if ever_connected.get() {
                Connection::Reconnecting
            } else {
                Connection::Connecting
            })
        };
        let (clock, on_lost) = (clock.clone(), lost.clone());
        socket.on_reserved("disconnect", move |reason| {
            clock.disconnected();
            on_lost(reason)
        });
        let retrying = socket.clone();
        socket.on_reserved("connect_error", move |error| {
            lost(error.clone());
            // A node that cannot reach the others refuses for a moment: try again (the
            // balancer may send this one elsewhere). Other refusals are final.
            let message = js_sys::Reflect::get(&error, &"message".into())
                .ok()
                .and_then(|m| m.as_string());
            if message.as_deref() == Some(events::UNAVAILABLE) {
                let retrying = retrying.clone();
                let wait = 1000.0 + js_sys::Math::random() * 2000.0;
                set_timeout(
                    move || retrying.retry(),
                    std::time::Duration::from_millis(wait as u64),
                );
            }
        });
    }
    {
        // This node lost its link to the others: reconnect, catching up on what it missed.
        let reconnecting = socket.clone();
        socket.on::<server::Reconnect>(move |_| reconnecting.reconnect());
    }
    socket.on::<server::MessageNew>(move |message| {
        last_seen.set(last_seen.get().max(message.id));
        notify(store, &message);
        if !store.receive(&message) {
            // A conversation this tab has not listed yet (a student wrote for the first time).
            // The first page brings it (its newest message puts it there); pages already
            // loaded below stay.
            spawn_local(async move {
                if let Ok(page) = crate::api::chat::conversations(None, None).await {
                    let more = store.more.get_untracked();
                    store.take_page(page, false);
                    store.more.set(more);
                    store.receive(&message);
                }
            });
        }
    });
    socket.on::<server::Presence>(move |update| store.set_presence(update));
    socket.on::<server::PresenceSnapshot>(move |snapshot| {
        clock.snapshot_taken(snapshot.at);
        store.apply_presence_snapshot(&snapshot);
    });
    socket.on::<server::Typing>(move |update| {
        if let Some(token) = store.receive_typing(&update) {
            // Expires by itself if the "stopped" signal never comes.
            set_timeout(
                move || {
                    if store.peer_typing.get_untracked() == Some(token) {
                        store.peer_typing.set(None);
                    }
                    store
                        .group_typing
                        .update(|typing| typing.retain(|(_, _, t)| *t != token));
                },
                TYPING_EXPIRES,
            );
        }
    });
    socket.on::<server::ConversationRead>(move |update| store.receive_read(&update));
    socket.on::<server::GroupInvited>(move |group| store.invited(group));
    socket.on::<server::GroupMember>(move |update| store.receive_member(&update));
    socket.on::<server::GroupRemoved>(move |gone| store.leave_group(gone.conversation_id));
    socket.on::<server::MessageRemoved>(move |removed| {
        store.message_removed(removed.conversation_id, removed.message_id)
    });
    socket.on::<server::GroupClosed>(move |closed| {
        store.close_group(closed.conversation_id, closed.closed_at)
    });
    socket.on::<server::ConversationMarked>(move |update| {
        match update.mark {
            Mark::Handled => store.mark_handled(update.conversation_id),
            Mark::Unread => {
                store.mark_unread(update.conversation_id);
                // Opening it again must report the read again, however far it was before.
                if let Some(live) = handle.get() {
                    live.reported_read
                        .borrow_mut()
                        .remove(&update.conversation_id);
                }
            }
        }
    });
    socket.on::<server::SyncReload>(|_| {
        let _ = window().location().reload();
    });
}

/// A system notification for a message from someone else while this tab is hidden, if the
/// user allowed them. Never the text; the sender's name only if the user chose it
/// (`notifications::Mode`).
fn notify(store: ChatStore, message: &Message) {
    use web_sys::{Notification, NotificationOptions, NotificationPermission};
    let (sender, group_name) = store.conversations.with_untracked(|list| {
        let summary = list.iter().find(|c| c.id == message.conversation_id);
        (
            summary.map(|c| c.peer.display_name.clone()),
            summary
                .and_then(|c| c.group.as_ref())
                .map(|g| (g.name.clone(), g.me.clone())),
        )
    });
    let from_someone_else = match &group_name {
        // In a group: a person's message that is not this user's (by handle).
        Some((_, me)) => {
            message.kind == crate::protocol::MessageKind::Text
                && message.author.as_ref().is_some_and(|a| a.handle != *me)
        }
        None => message.sender_id.is_some_and(|sender| sender != store.me),
    };
    if !from_someone_else
        || !document().hidden()
        || Notification::permission() != NotificationPermission::Granted
    {
        return;
    }
    // A group is named by its name, never by a member's.
    let sender = group_name.map(|(name, _)| name).or(sender);
    let Some(title) = super::notifications::load(store.me).title(sender.as_deref()) else {
        return;
    };
    let options = NotificationOptions::new();
    options.set_tag(&format!("conversation-{}", message.conversation_id));
    let _ = Notification::new_with_options(&title, &options);
}
