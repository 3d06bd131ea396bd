//! Who may see whose presence, and the `presence` events that follow from it: a
//! psychiatrist's status goes to every signed-in student (room `students`); a student's only
//! to the psychiatrists who share a conversation with them. Never a broadcast to everyone.

use app::protocol::{events, PresenceSnapshot, PresenceUpdate, Role, UserId};
use socketioxide::extract::SocketRef;
use socketioxide::SocketIo;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

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

/// Without a `presenceSince`, a snapshot reports who went offline in this window: it covers
/// the moments between a page's render (which carried everyone's `lastSeen`) and its socket.
const SNAPSHOT_WINDOW: Duration = Duration::minutes(5);
/// At most this many recent departures in one snapshot (the most recent first).
const SNAPSHOT_OFFLINE_MAX: i64 = 500;

/// Sends a fresh socket, in one event, who of those its user may see is online now, and
/// who went offline since `since` (the client's `presenceSince`), with when. The client
/// keeps the `lastSeen` it knew for everyone else: listing every visible user here (every
/// psychiatrist, for a student) would cost each new socket a packet per psychiatrist.
pub async fn snapshot(
    socket: &SocketRef,
    realtime: &Realtime,
    user: SessionUser,
    since: Option<&str>,
) {
    let now = OffsetDateTime::now_utc();
    let since = departures_after(since, now);
    // Who is online, and the visible users that may have left since then.
    let found = match user.role {
        Role::Student => {
            users::psychiatrists_offline_since(&realtime.db, &since, SNAPSHOT_OFFLINE_MAX)
                .await
                .map(|recent| {
                    (
                        realtime.presence.online_with_role(Role::Psychiatrist),
                        recent,
                    )
                })
        }
        Role::Psychiatrist => conversations::peers_last_seen(&realtime.db, user.id)
            .await
            .map(|peers| {
                let online = peers
                    .iter()
                    .map(|(peer, _)| *peer)
                    .filter(|peer| realtime.presence.is_online(*peer))
                    .collect();
                (online, peers)
            }),
    };
    let (online, candidates) = match found {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "presence snapshot failed");
            return;
        }
    };
    let mut offline: Vec<PresenceUpdate> = candidates
        .into_iter()
        .filter(|(id, seen)| {
            !realtime.presence.is_online(*id)
                && seen.as_deref().is_some_and(|seen| seen > since.as_str())
        })
        .map(|(user_id, last_seen)| PresenceUpdate {
            user_id,
            online: false,
            last_seen,
        })
        .collect();
    // The most recent first, and a bounded event.
    offline.sort_unstable_by(|a, b| b.last_seen.cmp(&a.last_seen));
    offline.truncate(SNAPSHOT_OFFLINE_MAX as usize);
    let snapshot = PresenceSnapshot {
        online,
        offline,
        at: now.format(&Rfc3339).unwrap_or_default(),
    };
    if let Err(e) = socket.emit(events::PRESENCE_SNAPSHOT, &snapshot) {
        tracing::debug!(error = %e, "presence snapshot not sent");
    }
}

/// The lower bound, as text comparable with stored `last_seen_at` values, of the departures
/// a snapshot reports: the client's `presenceSince`, or [`SNAPSHOT_WINDOW`] ago when it is
/// missing, unreadable or in the future. Stored times are RFC 3339 with a varying number of
/// fraction digits, which do not compare as text within one second, so the bound is whole
/// seconds, one second early, without the fraction: every later time sorts after it.
fn departures_after(since: Option<&str>, now: OffsetDateTime) -> String {
    let since = since
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .filter(|s| *s <= now)
        .unwrap_or(now - SNAPSHOT_WINDOW)
        .to_offset(time::UtcOffset::UTC)
        - Duration::seconds(1);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        since.year(),
        u8::from(since.month()),
        since.day(),
        since.hour(),
        since.minute(),
        since.second()
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).expect("a valid time")
    }

    #[test]
    fn departures_since_a_moment_include_that_whole_second_and_later() {
        let now = at("2026-11-23T02:00:00Z");
        let bound = departures_after(Some("2026-11-23T01:56:40.5Z"), now);
        // Stored times have 0–9 fraction digits; all from the requested second on sort after.
        for later in [
            "2026-11-23T01:56:40Z",
            "2026-11-23T01:56:40.1Z",
            "2026-11-23T01:59:00.123456Z",
        ] {
            assert!(
                later > bound.as_str(),
                "{later} should be reported after {bound}"
            );
        }
        assert!("2026-11-23T01:56:38.999Z" < bound.as_str());
    }

    #[test]
    fn without_a_usable_moment_the_last_minutes_are_reported() {
        let now = at("2026-11-23T02:00:00Z");
        let window = "2026-11-23T01:54:59";
        assert_eq!(departures_after(None, now), window);
        assert_eq!(departures_after(Some("yesterday"), now), window);
        assert_eq!(departures_after(Some("2026-11-23T03:00:00Z"), now), window);
    }
}
