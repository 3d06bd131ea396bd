//! Presence: who is online, and who may see it. Connections are counted per user, many
//! tabs and devices counting once; a user goes offline only after their last connection has
//! been gone for a grace period, so a page reload never shows them offline.
//!
//! Who may see whom is the domain's rule, kept here: a psychiatrist's status goes to every
//! signed-in student; a student's only to the psychiatrists who share a conversation with
//! them. Never a broadcast to everyone.
//!
//! Counting is the coordination port's (`coordination::Coordinator`): in memory on one
//! node, in Redis across several, where a user is online while any socket on any node is
//! connected, comes online and goes offline once for everyone, and the users of a node that
//! died go offline within its lease. This module decides who is told.

use std::sync::Arc;

use app::protocol::{PresenceSnapshot, PresenceUpdate, Role, Timestamp, UserId};
use tokio::sync::mpsc;

use super::events::{Audience, ChatEvent, SharedPublisher};
use super::ChatError;
use crate::coordination::{PresenceChange, SharedCoordinator};
use crate::store::users::LastSeen;
use crate::store::{conversations, users, Db};

/// Without a `presenceSince`, a snapshot reports who went offline in this window: it covers
/// the moments between a page's render (which carried everyone's `lastSeen`) and its socket.
const SNAPSHOT_WINDOW_MS: i64 = 5 * 60 * 1000;
/// At most this many recent departures in one snapshot (the most recent first).
const SNAPSHOT_OFFLINE_MAX: i64 = 500;

/// Presence with its rules: stores `last_seen`, and publishes changes to those allowed to
/// see them.
pub struct Presence {
    coordinator: SharedCoordinator,
    db: Db,
    publisher: SharedPublisher,
}

impl Presence {
    /// Nobody online yet: call [`Presence::start`] once it is shared.
    pub fn new(db: Db, publisher: SharedPublisher, coordinator: SharedCoordinator) -> Self {
        Self {
            coordinator,
            db,
            publisher,
        }
    }

    /// Starts announcing what the coordinator decides later (grace periods running out,
    /// nodes dying, Redis coming back).
    pub fn start(self: &Arc<Self>) {
        let (tx, mut changes) = mpsc::unbounded_channel();
        self.coordinator.start(tx);
        let this = self.clone();
        tokio::spawn(async move {
            while let Some(change) = changes.recv().await {
                match change {
                    PresenceChange::Online { user, role } => this.came_online(user, role).await,
                    PresenceChange::Offline { user, role, at } => {
                        this.went_offline(user, role, at).await
                    }
                }
            }
        });
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

    /// Tells the watchers that `user` came online.
    async fn came_online(&self, user: UserId, role: Role) {
        let update = PresenceUpdate {
            user_id: user,
            online: true,
            last_seen: None,
        };
        self.announce(user, role, update).await;
    }

    /// Stores that `user` was last seen `at` and tells the watchers they went offline.
    async fn went_offline(&self, user: UserId, role: Role, at: Timestamp) {
        if let Err(e) = users::set_last_seen(&self.db, user, at).await {
            tracing::warn!(error = %crate::report::chain(&e), "last_seen not stored");
        }
        let update = PresenceUpdate {
            user_id: user,
            online: false,
            last_seen: Some(at),
        };
        self.announce(user, role, update).await;
    }

    /// A connection of `user` opened: tell the watchers if the user just came online.
    pub async fn connected(&self, user: UserId, role: Role) {
        if self.coordinator.connect(user, role).await {
            self.came_online(user, role).await;
        }
    }

    /// A connection of `user` closed: after the grace period, if none came back (on any
    /// node), the coordinator reports them offline.
    pub fn disconnected(&self, user: UserId, role: Role) {
        self.coordinator.disconnect(user, role);
    }

    /// At shutdown, after the connections closed: stores `last_seen` of those whose
    /// presence ends with this process.
    pub async fn shut_down(&self) {
        let now = Timestamp::now();
        for user in self.coordinator.shut_down().await {
            if let Err(e) = users::set_last_seen(&self.db, user, now).await {
                tracing::warn!(error = %crate::report::chain(&e), "last_seen not stored");
            }
        }
    }

    /// Which of `users` count as online now (connected, or within the grace period).
    async fn online_among(&self, users: &[UserId]) -> Vec<bool> {
        self.coordinator.online_among(users).await
    }

    /// Every psychiatrist online now.
    async fn online_psychiatrists(&self) -> Vec<UserId> {
        self.coordinator.online_psychiatrists().await
    }

    /// The current status of visible users, given what the store knows.
    async fn statuses_of(&self, seen: Vec<LastSeen>) -> Vec<PresenceUpdate> {
        let users: Vec<UserId> = seen.iter().map(|(user, _)| *user).collect();
        let online = self.online_among(&users).await;
        seen.into_iter()
            .zip(online)
            .map(|((user_id, last_seen), online)| PresenceUpdate {
                user_id,
                online,
                last_seen: if online { None } else { last_seen },
            })
            .collect()
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
        Ok(self.statuses_of(visible).await)
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
                self.online_psychiatrists().await,
                users::psychiatrists_offline_since(&self.db, since, SNAPSHOT_OFFLINE_MAX).await?,
            ),
            Role::Psychiatrist => {
                let peers = conversations::peers_last_seen(&self.db, user).await?;
                let ids: Vec<UserId> = peers.iter().map(|(peer, _)| *peer).collect();
                let online = ids
                    .iter()
                    .zip(self.online_among(&ids).await)
                    .filter(|(_, online)| *online)
                    .map(|(peer, _)| *peer)
                    .collect();
                (online, peers)
            }
        };
        let recent = candidates
            .into_iter()
            .filter(|(_, seen)| seen.is_some_and(|seen| seen >= since))
            .collect();
        let mut offline: Vec<PresenceUpdate> = self
            .statuses_of(recent)
            .await
            .into_iter()
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
            let online = self.online_among(&[whose]).await == [true];
            let update = PresenceUpdate {
                user_id: whose,
                online,
                last_seen: if online {
                    None
                } else {
                    users::last_seen(&self.db, whose).await.unwrap_or_default()
                },
            };
            let to = Audience::Users(Arc::from([to]));
            self.publisher
                .publish(ChatEvent::Presence { update, to })
                .await;
        }
    }
}
