//! The chat domain's [`Publisher`] port, implemented with Socket.IO rooms on this node: an
//! event goes to the `user:<id>` rooms of its audience (or the `students` room), a session's
//! end closes its `session:<key>` room. A multi-node adapter is another implementation of
//! the same port.

use std::str::FromStr;
use std::sync::OnceLock;

use app::protocol::events;
use async_trait::async_trait;
use serde::Serialize;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;

use super::{session_room, user_rooms, STUDENTS_ROOM};
use crate::chat::{Audience, ChatEvent, Connection, Publisher};

/// Delivers chat events to sockets. The Socket.IO instance is attached once it exists (it
/// is built after the chat service it serves); nothing is published before that.
#[derive(Default)]
pub struct SocketDelivery {
    io: OnceLock<SocketIo>,
}

impl SocketDelivery {
    /// Starts delivering through `io`.
    pub fn attach(&self, io: SocketIo) {
        let _ = self.io.set(io);
    }
}

fn rooms(audience: Audience) -> Vec<String> {
    match audience {
        Audience::Users(users) => user_rooms(users.iter().copied()),
        Audience::Students => vec![STUDENTS_ROOM.to_owned()],
    }
}

/// Emits `payload` once, encoded once, to every socket in `rooms` but `except`.
async fn emit(
    io: &SocketIo,
    event: &'static str,
    rooms: Vec<String>,
    except: Option<Connection>,
    payload: &impl Serialize,
) {
    if rooms.is_empty() {
        return;
    }
    let origin = except
        .and_then(|Connection(id)| Sid::from_str(&id).ok())
        .and_then(|sid| io.get_socket(sid));
    let sent = match origin {
        // Everyone in those rooms but the socket that caused the event.
        Some(socket) => socket.broadcast().to(rooms).emit(event, payload).await,
        None => io.to(rooms).emit(event, payload).await,
    };
    if let Err(e) = sent {
        tracing::warn!(event, error = %e, "broadcast failed");
    }
}

#[async_trait]
impl Publisher for SocketDelivery {
    async fn publish(&self, event: ChatEvent) {
        let Some(io) = self.io.get() else {
            return;
        };
        match event {
            ChatEvent::MessageStored { message, to } => {
                emit(io, events::MESSAGE_NEW, rooms(to), None, &message).await
            }
            ChatEvent::Typing { update, to } => {
                emit(io, events::TYPING, rooms(to), None, &update).await
            }
            ChatEvent::Read { update, to, except } => {
                emit(io, events::CONVERSATION_READ, rooms(to), except, &update).await
            }
            ChatEvent::Presence { update, to } => {
                emit(io, events::PRESENCE, rooms(to), None, &update).await
            }
            ChatEvent::Marked { update, to } => {
                emit(io, events::CONVERSATION_MARKED, rooms(to), None, &update).await
            }
            ChatEvent::SessionEnded { session } => {
                if let Err(e) = io.to(session_room(&session)).disconnect().await {
                    tracing::warn!(error = %e, "could not disconnect a signed-out session's sockets");
                }
            }
        }
    }
}
