//! Wires the store to the socket (browser only): incoming messages, connection state,
//! sending with ack, retries.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::socket::{from_js, Socket};
use super::store::{ChatStore, Connection, Delivery};
use crate::protocol::{events, ConversationId, Message, MessageAck, PresenceUpdate, SendMessage};

thread_local! {
    /// This tab's one socket.
    static SOCKET: RefCell<Option<Socket>> = const { RefCell::new(None) };
}

/// Opens the tab's socket and feeds `store` from it. Called once, after hydration.
pub fn start(store: ChatStore) {
    let last_seen = Rc::new(Cell::new(store.highest_seen()));
    let Some(socket) = Socket::connect(last_seen.clone()) else {
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
        socket.on("disconnect", lost.clone());
        socket.on("connect_error", lost);
    }
    socket.on(events::MESSAGE_NEW, move |payload| {
        let Some(message) = from_js::<Message>(&payload) else {
            return;
        };
        last_seen.set(last_seen.get().max(message.id.0));
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
    socket.on(events::SYNC_RELOAD, |_| {
        let _ = window().location().reload();
    });
    SOCKET.with(|s| *s.borrow_mut() = Some(socket));
}

/// Sends (or resends) one of our messages; the store shows it as sending until the ack.
pub fn send(store: ChatStore, conversation_id: ConversationId, client_id: String, body: String) {
    let Some(socket) = SOCKET.with(|s| s.borrow().clone()) else {
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
