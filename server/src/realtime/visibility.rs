//! Who may see whose presence, and the `presence` events that follow from it: a
//! psychiatrist's status goes to every signed-in student (room `students`); a student's only
//! to the psychiatrists who share a conversation with them. Never a broadcast to everyone.

use app::protocol::{events, PresenceSnapshot, PresenceUpdate, Role, UserId};
use socketioxide::extract::SocketRef;
use socketioxide::SocketIo;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{user_room, Realtime, STUDENTS_ROOM};
use crate::auth::session::SessionUser;
use crate::store::{conversations, users, StoreError};

/// The rooms that may see `user`'s status.
async fn watchers(realtime: &Realtime, user: SessionUser) -> Result<Vec<String>, StoreError> {
    Ok(match user.role {
        Role::Psychiatrist => vec![STUDENTS_ROOM.to_owned()],
        Role::Student => conversations::peers_last_seen(&realtime.db, user.id)
            .await?
            .into_iter()
            .map(|(peer, _)| user_room(peer))
            .collect(),
    })
}

async fn announce(io: &SocketIo, realtime: &Realtime, user: SessionUser, update: &PresenceUpdate) {
    match watchers(realtime, user).await {
        Ok(rooms) if rooms.is_empty() => {}
        Ok(rooms) => {
            if let Err(e) = io.to(rooms).emit(events::PRESENCE, update).await {
                tracing::warn!(error = %e, "presence broadcast failed");
            }
        }
        Err(e) => tracing::warn!(error = %e, "presence watchers unknown"),
    }
}

/// A socket of `user` connected: tell the watchers if the user just came online.
pub async fn connected(io: &SocketIo, realtime: &Realtime, user: SessionUser) {
    if realtime.presence.connect(user.id, user.role) {
        let update = PresenceUpdate {
            user_id: user.id,
            online: true,
            last_seen: None,
        };
        announce(io, realtime, user, &update).await;
    }
}

/// A socket of `user` closed: after the grace period, if none came back, store `last_seen`
/// and tell the watchers.
pub fn disconnected(io: SocketIo, realtime: Realtime, user: SessionUser) {
    let Some(epoch) = realtime.presence.disconnect(user.id) else {
        return;
    };
    tokio::spawn(async move {
        tokio::time::sleep(realtime.presence.grace).await;
        if !realtime.presence.expire(user.id, epoch) {
            return;
        }
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        if let Err(e) = users::set_last_seen(&realtime.db, user.id, &now).await {
            tracing::warn!(error = %e, "last_seen not stored");
        }
        let update = PresenceUpdate {
            user_id: user.id,
            online: false,
            last_seen: Some(now),
        };
        announce(&io, &realtime, user, &update).await;
    });
}

/// The current status of everyone `user` may see.
pub async fn statuses(
    realtime: &Realtime,
    user: SessionUser,
) -> Result<Vec<PresenceUpdate>, StoreError> {
    let visible = match user.role {
        Role::Student => users::psychiatrists_last_seen(&realtime.db).await?,
        Role::Psychiatrist => conversations::peers_last_seen(&realtime.db, user.id).await?,
    };
    Ok(visible
        .into_iter()
        .map(|(id, last_seen)| {
            let online = realtime.presence.is_online(id);
            PresenceUpdate {
                user_id: id,
                online,
                last_seen: if online { None } else { last_seen },
            }
        })
        .collect())
}

/// Sends a fresh socket, in one event, who of those its user may see is online now; the
/// client counts everyone else offline. Offline users' `lastSeen` came with the page, and
/// later changes come as `presence` events: listing every visible user here (every
/// psychiatrist, for a student) would cost each new socket a packet per psychiatrist.
pub async fn snapshot(socket: &SocketRef, realtime: &Realtime, user: SessionUser) {
    let online = match user.role {
        Role::Student => realtime.presence.online_with_role(Role::Psychiatrist),
        Role::Psychiatrist => match conversations::peers_last_seen(&realtime.db, user.id).await {
            Ok(peers) => peers
                .into_iter()
                .map(|(peer, _)| peer)
                .filter(|peer| realtime.presence.is_online(*peer))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "presence snapshot failed");
                return;
            }
        },
    };
    if let Err(e) = socket.emit(events::PRESENCE_SNAPSHOT, &PresenceSnapshot { online }) {
        tracing::debug!(error = %e, "presence snapshot not sent");
    }
}

/// A conversation was opened between `a` and `b`: each may now see the other's status
/// (a student's becomes visible to the psychiatrist only now), so tell both at once.
pub async fn introduce(io: &SocketIo, realtime: &Realtime, a: UserId, b: UserId) {
    for (whose, to) in [(a, b), (b, a)] {
        let online = realtime.presence.is_online(whose);
        let last_seen = if online {
            None
        } else {
            users::last_seen(&realtime.db, whose)
                .await
                .unwrap_or_default()
        };
        let update = PresenceUpdate {
            user_id: whose,
            online,
            last_seen,
        };
        let _ = io.to(user_room(to)).emit(events::PRESENCE, &update).await;
    }
}
