//! The chat domain's [`Publisher`] port, implemented with Socket.IO rooms: an event goes to
//! the `user:<id>` rooms of its audience (or the `students` room), a session's end closes
//! its `session:<key>` room. With several nodes the same rooms span them all (the Redis
//! adapter); an emit that fails to reach Redis makes this node's sockets catch up, since
//! the other nodes' may have missed it and this node's surely did.

use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use app::protocol::events::{server, ServerEvent};
use async_trait::async_trait;
use socketioxide::adapter::Adapter;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::Sid;
use socketioxide::SocketIo;

use super::{session_room, user_rooms, with_io, Io, STUDENTS_ROOM};
use crate::chat::{Audience, ChatEvent, Connection, Publisher};
use crate::cluster::Health;

/// Delivers chat events to sockets. The Socket.IO instance is attached once it exists (it
/// is built after the chat service it serves); nothing is published before that.
#[derive(Default)]
pub struct SocketDelivery {
    io: OnceLock<(Io, Option<Arc<Health>>)>,
}

impl SocketDelivery {
    /// Starts delivering through `io`; with several nodes, `health` hears of failed emits.
    pub fn attach(&self, io: Io, health: Option<Arc<Health>>) {
        let _ = self.io.set((io, health));
    }
}

fn rooms(audience: Audience) -> Vec<String> {
    match audience {
        Audience::Users(users) => user_rooms(users.iter().copied()),
        Audience::Students => vec![STUDENTS_ROOM.to_owned()],
    }
}

/// The namespace every socket is in; none once the server has closed Socket.IO on shutdown
/// (socketioxide's `io.to` would panic then). A message committed during shutdown has no
/// socket left here to reach: its readers catch up where they reconnect.
fn root<A: Adapter>(io: &SocketIo<A>) -> Option<BroadcastOperators<A>> {
    io.of("/")
}

/// Emits the server event `E` once, encoded once, to every socket in `rooms` but
/// `except`; `false` if it could not be handed over.
async fn emit<E: ServerEvent, A: Adapter>(
    io: &SocketIo<A>,
    rooms: Vec<String>,
    except: Option<Connection>,
    payload: &E::Payload,
) -> bool {
    let event = E::NAME;
    if rooms.is_empty() {
        return true;
    }
    let Some(root) = root(io) else {
        return true;
    };
    let origin = except
        .and_then(|Connection(id)| Sid::from_str(&id).ok())
        .and_then(|sid| root.get_socket(sid));
    let sent = match origin {
        // Everyone in those rooms but the socket that caused the event.
        Some(socket) => socket.broadcast().to(rooms).emit(event, payload).await,
        None => root.to(rooms).emit(event, payload).await,
    };
    if let Err(e) = sent {
        tracing::warn!(event, error = %e, "broadcast failed");
        return false;
    }
    true
}

/// Hands `event` to the sockets through `io`; `false` if it could not be.
async fn deliver<A: Adapter>(io: &SocketIo<A>, event: ChatEvent) -> bool {
    match event {
        ChatEvent::MessageStored { message, to } => {
            emit::<server::MessageNew, _>(io, rooms(to), None, &message).await
        }
        ChatEvent::Typing { update, to } => {
            emit::<server::Typing, _>(io, rooms(to), None, &update).await
        }
        ChatEvent::Read { update, to, except } => {
            emit::<server::ConversationRead, _>(io, rooms(to), except, &update).await
        }
        ChatEvent::Presence { update, to } => {
            emit::<server::Presence, _>(io, rooms(to), None, &update).await
        }
        ChatEvent::Marked { update, to } => {
            emit::<server::ConversationMarked, _>(io, rooms(to), None, &update).await
        }
        ChatEvent::GroupInvited { group, to } => {
            emit::<server::GroupInvited, _>(io, rooms(to), None, &group).await
        }
        ChatEvent::GroupMember { update, to } => {
            emit::<server::GroupMember, _>(io, rooms(to), None, &update).await
        }
        ChatEvent::GroupRemoved { update, to } => {
            emit::<server::GroupRemoved, _>(io, rooms(to), None, &update).await
        }
        ChatEvent::MessageRemoved { update, to } => {
            emit::<server::MessageRemoved, _>(io, rooms(to), None, &update).await
        }
        ChatEvent::GroupClosed { update, to } => {
            emit::<server::GroupClosed, _>(io, rooms(to), None, &update).await
        }
        // Reminders are Web Push's (`chat::Split` sends them there).
        ChatEvent::Unread(_) => true,
        ChatEvent::SessionEnded { session } => {
            let Some(root) = root(io) else {
                return true;
            };
            if let Err(e) = root.to(session_room(&session)).disconnect().await {
                tracing::warn!(error = %e, "could not disconnect a signed-out session's sockets");
                return false;
            }
            true
        }
    }
}

/// Web Push asks before reminding: is any tab of the user watching, on any node?
#[async_trait]
impl crate::push::Attention for SocketDelivery {
    async fn watching(&self, user: app::protocol::UserId) -> bool {
        let Some((io, _)) = self.io.get() else {
            return false;
        };
        let room = super::attention::watching_room(user);
        // Unanswerable (Redis away): remind rather than stay silent.
        with_io!(io, io => match root(io) {
            Some(root) => root.to(room).fetch_sockets().await.is_ok_and(|s| !s.is_empty()),
            None => false,
        })
    }
}

#[async_trait]
impl Publisher for SocketDelivery {
    async fn publish(&self, event: ChatEvent) {
        let Some((io, health)) = self.io.get() else {
            return;
        };
        if health.as_ref().is_some_and(|health| !health.is_up()) {
            // Redis is away: this node's sockets are being sent elsewhere to catch up, and
            // an emit would only wait for Redis' timeout.
            return;
        }
        let delivered = with_io!(io, io => deliver(io, event).await);
        if !delivered {
            if let Some(health) = health {
                health.request_resync();
            }
        }
    }
}
