//! Presence: who is online, and who may see it. Connections are counted per user, many
//! tabs and devices counting once; a user goes offline only after their last connection has
//! been gone for a grace period, so a page reload never shows them offline.
//!
//! Who may see whom is the domain's rule, kept here: a psychiatrist's status goes to every
//! signed-in student; a student's only to the psychiatrists who share a conversation with
//! them. Never a broadcast to everyone.
//!
//! All counting sits behind [`Counts`], so that a multi-node version can count across nodes
//! (e.g. in Redis) without touching callers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::protocol::{PresenceSnapshot, PresenceUpdate, Role, Timestamp, UserId};

use super::events::{Audience, ChatEvent, SharedPublisher};
use super::ChatError;
use crate::store::users::LastSeen;
use crate::store::{conversations, users, Db};

#[derive(Debug)]
struct Entry {
    role: Role,
    sockets: u32,
    /// Bumped at every connect, so a pending offline check can tell it is stale.
    epoch: u64,
}

/// Connection counts per user (this node).
#[derive(Debug, Default)]
pub struct Counts {
    users: Mutex<HashMap<UserId, Entry>>,
}

impl Counts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Entry>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a new socket; `true` if the user just came online (was not online or in
    /// grace before).
    pub fn connect(&self, user: UserId, role: Role) -> bool {
        let mut users = self.lock();
        match users.get_mut(&user) {
            Some(entry) => {
                entry.sockets += 1;
                entry.epoch += 1;
                false
            }
            None => {
                users.insert(
                    user,
                    Entry {
                        role,
                        sockets: 1,
                        epoch: 0,
                    },
                );
                true
            }
        }
    }

    /// Counts a closed socket; `Some(epoch)` if it was the user's last one: check back with
    /// [`Counts::expire`] after the grace period.
    pub fn disconnect(&self, user: UserId) -> Option<u64> {
        let mut users = self.lock();
        let entry = users.get_mut(&user)?;
        entry.sockets = entry.sockets.saturating_sub(1);
        (entry.sockets == 0).then_some(entry.epoch)
    }

    /// After the grace period: `true` (and the user is now offline) if no socket came back.
    pub fn expire(&self, user: UserId, epoch: u64) -> bool {
        let mut users = self.lock();
        let gone = users
            .get(&user)
            .is_some_and(|e| e.sockets == 0 && e.epoch == epoch);
        if gone {
            users.remove(&user);
        }
        gone
    }

    /// Whether the user counts as online now (connected, or within the grace period).
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().contains_key(&user)
    }

    /// Everyone with `role` who counts as online now.
    pub fn online_with_role(&self, role: Role) -> Vec<UserId> {
        self.lock()
            .iter()
            .filter(|(_, entry)| entry.role == role)
            .map(|(user, _)| *user)
            .collect()
    }

    /// Everyone who counts as online now, with their role.
    fn everyone(&self) -> Vec<(UserId, Role)> {
        self.lock()
            .iter()
            .map(|(user, entry)| (*user, entry.role))
            .collect()
    }
}

/// Without a `presenceSince`, a snapshot reports who went offline in this window: it covers
/// the moments between a page's render (which carried everyone's `lastSeen`) and its socket.
const SNAPSHOT_WINDOW_MS: i64 = 5 * 60 * 1000;
/// At most this many recent departures in one snapshot (the most recent first).
const SNAPSHOT_OFFLINE_MAX: i64 = 500;

/// Presence with its rules: counts connections, stores `last_seen`, and publishes changes
/// to those allowed to see them.
pub struct Presence {
    counts: Counts,
    db: Db,
    publisher: SharedPublisher,
    /// How long a user stays online after their last connection closed.
    grace: Duration,
}

impl Presence {
    /// Nobody online yet.
    pub fn new(db: Db, publisher: SharedPublisher, grace: Duration) -> Self {
        Self {
            counts: Counts::default(),
            db,
            publisher,
            grace,
        }
    }

    /// Who may see `user`'s status.
    async fn watchers(&self, user: UserId, role: Role) -> Result<Audience, ChatError> {
        Ok(match role {
            Role::Psychiatrist => Audience::Students,
            Role::Student => Audience::Users(
                conversations::peers_last_seen(&self.db, user)
                    .await?
                    .into_iter()
                    .map(|(peer, _)| peer)
                    .collect(),
            ),
        })
    }

    async fn announce(&self, user: UserId, role: Role, update: PresenceUpdate) {
        match self.watchers(user, role).await {
            Ok(Audience::Users(users)) if users.is_empty() => {}
            Ok(to) => {
                self.publisher
                    .publish(ChatEvent::Presence { update, to })
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %crate::report::chain(&e), "presence watchers unknown")
            }
        }
    }

    /// A connection of `user` opened: tell the watchers if the user just came online.
    pub async fn connected(&self, user: UserId, role: Role) {
        if self.counts.connect(user, role) {
            let update = PresenceUpdate {
                user_id: user,
                online: true,
                last_seen: None,
            };
            self.announce(user, role, update).await;
        }
    }

    /// A connection of `user` closed: after the grace period, if none came back, store
    /// `last_seen` and tell the watchers.
    pub fn disconnected(self: &Arc<Self>, user: UserId, role: Role) {
        let Some(epoch) = self.counts.disconnect(user) else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(this.grace).await;
            if !this.counts.expire(user, epoch) {
                return;
            }
            let now = Timestamp::now();
            if let Err(e) = users::set_last_seen(&this.db, user, now).await {
                tracing::warn!(error = %crate::report::chain(&e), "last_seen not stored");
            }
            let update = PresenceUpdate {
                user_id: user,
                online: false,
                last_seen: Some(now),
            };
            this.announce(user, role, update).await;
        });
    }

    /// At shutdown: everyone still counted was last seen now (their grace timers will not
    /// run).
    pub async fn store_all_last_seen(&self) {
        let now = Timestamp::now();
        for (user, _) in self.counts.everyone() {
            if let Err(e) = users::set_last_seen(&self.db, user, now).await {
                tracing::warn!(error = %crate::report::chain(&e), "last_seen not stored");
            }
        }
    }

    /// The current status of a visible user, given what the store knows.
    fn status(&self, (user_id, last_seen): LastSeen) -> PresenceUpdate {
        let online = self.counts.is_online(user_id);
        PresenceUpdate {
            user_id,
            online,
            last_seen: if online { None } else { last_seen },
        }
    }

    /// The current status of everyone `user` may see.
    pub async fn statuses(
        &self,
        user: UserId,
        role: Role,
    ) -> Result<Vec<PresenceUpdate>, ChatError> {
        let visible = match role {
            Role::Student => users::psychiatrists_last_seen(&self.db).await?,
            Role::Psychiatrist => conversations::peers_last_seen(&self.db, user).await?,
        };
        Ok(visible.into_iter().map(|seen| self.status(seen)).collect())
    }

    /// What a fresh connection learns at once: who of those its user may see is online now,
    /// and who went offline since `since` (the client's `presenceSince`; without a usable
    /// one, the last few minutes), with when. The client keeps the `lastSeen` it knew for
    /// everyone else: listing every visible user (every psychiatrist, for a student) would
    /// cost each new connection a packet per psychiatrist.
    pub async fn snapshot(
        &self,
        user: UserId,
        role: Role,
        since: Option<Timestamp>,
    ) -> Result<PresenceSnapshot, ChatError> {
        let now = Timestamp::now();
        let since = since
            .filter(|since| *since <= now)
            .unwrap_or(now.plus_millis(-SNAPSHOT_WINDOW_MS));
        // Who is online, and the visible users that may have left since then.
        let (online, candidates) = match role {
            Role::Student => (
                self.counts.online_with_role(Role::Psychiatrist),
                users::psychiatrists_offline_since(&self.db, since, SNAPSHOT_OFFLINE_MAX).await?,
            ),
            Role::Psychiatrist => {
                let peers = conversations::peers_last_seen(&self.db, user).await?;
                let online = peers
                    .iter()
                    .map(|(peer, _)| *peer)
                    .filter(|peer| self.counts.is_online(*peer))
                    .collect();
                (online, peers)
            }
        };
        let mut offline: Vec<PresenceUpdate> = candidates
            .into_iter()
            .filter(|(_, seen)| seen.is_some_and(|seen| seen >= since))
            .map(|seen| self.status(seen))
            .filter(|status| !status.online)
            .collect();
        // The most recent first, and a bounded event.
        offline.sort_unstable_by_key(|status| std::cmp::Reverse(status.last_seen));
        offline.truncate(SNAPSHOT_OFFLINE_MAX as usize);
        Ok(PresenceSnapshot {
            online,
            offline,
            at: now,
        })
    }

    /// A conversation was opened between `a` and `b`: each may now see the other's status
    /// (a student's becomes visible to the psychiatrist only now), so tell both at once.
    pub async fn introduce(&self, a: UserId, b: UserId) {
        for (whose, to) in [(a, b), (b, a)] {
            let last_seen = if self.counts.is_online(whose) {
                None
            } else {
                users::last_seen(&self.db, whose).await.unwrap_or_default()
            };
            let update = self.status((whose, last_seen));
            let to = Audience::Users(Arc::from([to]));
            self.publisher
                .publish(ChatEvent::Presence { update, to })
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_count_once_and_grace_absorbs_reloads() {
        let presence = Counts::default();
        let u = UserId(1);
        assert!(presence.connect(u, Role::Student), "first socket: online");
        assert!(!presence.connect(u, Role::Student), "second tab: no change");
        assert_eq!(presence.disconnect(u), None, "one tab left");
        let epoch = presence.disconnect(u).expect("last socket gone");
        assert!(presence.is_online(u), "still online during grace");
        assert!(
            !presence.connect(u, Role::Student),
            "a reload within grace is not a new 'online'"
        );
        assert!(!presence.expire(u, epoch), "the stale check does nothing");
        let epoch = presence.disconnect(u).unwrap();
        assert!(presence.expire(u, epoch));
        assert!(!presence.is_online(u));
    }

    #[test]
    fn online_users_are_listed_by_role() {
        let presence = Counts::default();
        presence.connect(UserId(1), Role::Student);
        presence.connect(UserId(2), Role::Psychiatrist);
        assert_eq!(
            presence.online_with_role(Role::Psychiatrist),
            vec![UserId(2)]
        );
    }
}
