//! Presence: who is online, and who may see it. Connections are counted per user, many
//! tabs and devices counting once; a user goes offline only after their last connection has
//! been gone for a grace period, so a page reload never shows them offline.
//!
//! Who may see whom is the domain's rule, kept here: a psychiatrist's status goes to every
//! signed-in student; a student's only to the psychiatrists who share a conversation with
//! them. Never a broadcast to everyone.
//!
//! On one node, [`Counts`] counts in memory. With several nodes (Redis configured), the
//! counts, the grace periods and each node's lease live in Redis (`cluster::presence`): a
//! user is online while any socket on any node is connected, comes online and goes offline
//! once for everyone, and the users of a node that died go offline within its lease.

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

/// Where connections are counted.
enum Tally {
    /// On this node alone (no Redis).
    Here(Counts),
    /// Across nodes, in Redis.
    Shared(shared::Tally),
}

/// Presence with its rules: counts connections, stores `last_seen`, and publishes changes
/// to those allowed to see them.
pub struct Presence {
    tally: Tally,
    db: Db,
    publisher: SharedPublisher,
    /// How long a user stays online after their last connection closed.
    grace: Duration,
}

impl Presence {
    /// Nobody online yet. With `redis`, connections are counted across nodes: call
    /// [`Presence::start`] once the service is shared.
    pub fn new(
        db: Db,
        publisher: SharedPublisher,
        grace: Duration,
        redis: Option<crate::cluster::Redis>,
    ) -> Self {
        let tally = match redis {
            Some(redis) => Tally::Shared(shared::Tally::new(redis)),
            None => Tally::Here(Counts::default()),
        };
        Self {
            tally,
            db,
            publisher,
            grace,
        }
    }

    /// Starts counting across nodes (nothing to start on one node).
    pub fn start(self: &Arc<Self>) {
        if let Tally::Shared(tally) = &self.tally {
            tally.start(self.clone());
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
        let came = match &self.tally {
            Tally::Here(counts) => counts.connect(user, role),
            Tally::Shared(tally) => tally.connect(user, role).await,
        };
        if came {
            self.came_online(user, role).await;
        }
    }

    /// A connection of `user` closed: after the grace period, if none came back (on any
    /// node), store `last_seen` and tell the watchers.
    pub fn disconnected(self: &Arc<Self>, user: UserId, role: Role) {
        let counts = match &self.tally {
            Tally::Here(counts) => counts,
            Tally::Shared(tally) => return tally.disconnect(user, role),
        };
        let Some(epoch) = counts.disconnect(user) else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(this.grace).await;
            let Tally::Here(counts) = &this.tally else {
                return;
            };
            if counts.expire(user, epoch) {
                this.went_offline(user, role, Timestamp::now()).await;
            }
        });
    }

    /// At shutdown, after the connections closed. On one node, everyone still counted was
    /// last seen now (their grace timers will not run). With several, this node's users
    /// start their grace in Redis, and the other nodes announce whoever does not come back.
    pub async fn shut_down(&self) {
        match &self.tally {
            Tally::Here(counts) => {
                let now = Timestamp::now();
                for (user, _) in counts.everyone() {
                    if let Err(e) = users::set_last_seen(&self.db, user, now).await {
                        tracing::warn!(error = %crate::report::chain(&e), "last_seen not stored");
                    }
                }
            }
            Tally::Shared(tally) => tally.shut_down(self.grace).await,
        }
    }

    /// Which of `users` count as online now (connected, or within the grace period).
    async fn online_among(&self, users: &[UserId]) -> Vec<bool> {
        match &self.tally {
            Tally::Here(counts) => users.iter().map(|u| counts.is_online(*u)).collect(),
            Tally::Shared(tally) => tally.online_among(users).await,
        }
    }

    /// Every psychiatrist online now.
    async fn online_psychiatrists(&self) -> Vec<UserId> {
        match &self.tally {
            Tally::Here(counts) => counts.online_with_role(Role::Psychiatrist),
            Tally::Shared(tally) => tally.online_psychiatrists().await,
        }
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

/// Counting across nodes: this node's own counts, kept by one task that applies every
/// change to Redis in the order the sockets came and went, renews this node's lease and
/// announces who went offline (whoever's grace ran out, on any node; whoever was only on a
/// node that died).
mod shared {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use app::protocol::{Role, UserId};
    use tokio::sync::{mpsc, oneshot};

    use super::Presence;
    use crate::cluster::{self, Redis};

    /// How long a node's lease lasts: a node killed without warning has its users go
    /// offline within this, plus one [`TICK`] (unless they are connected elsewhere).
    pub const LEASE: Duration = Duration::from_secs(10);
    /// How often the lease is renewed.
    const RENEW_EVERY: Duration = Duration::from_secs(2);
    /// How often Redis is asked who went offline.
    const TICK: Duration = Duration::from_millis(250);

    enum Op {
        Connect(UserId, Role, oneshot::Sender<bool>),
        Disconnect(UserId, Role),
        /// Answers once everything queued before is applied.
        Flush(oneshot::Sender<()>),
    }

    type Here = HashMap<UserId, (Role, u32)>;

    pub struct Tally {
        redis: Redis,
        ops: mpsc::UnboundedSender<Op>,
        rx: Mutex<Option<mpsc::UnboundedReceiver<Op>>>,
        /// This node's sockets per user; only the task changes it.
        here: Arc<Mutex<Here>>,
    }

    impl Tally {
        pub fn new(redis: Redis) -> Self {
            let (ops, rx) = mpsc::unbounded_channel();
            Self {
                redis,
                ops,
                rx: Mutex::new(Some(rx)),
                here: Arc::default(),
            }
        }

        pub fn start(&self, presence: Arc<Presence>) {
            let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(rx) = rx {
                let worker = Worker {
                    redis: self.redis.clone(),
                    here: self.here.clone(),
                    presence,
                    dirty: true,
                };
                tokio::spawn(worker.run(rx));
            }
        }

        pub async fn connect(&self, user: UserId, role: Role) -> bool {
            let (reply, answer) = oneshot::channel();
            if self.ops.send(Op::Connect(user, role, reply)).is_err() {
                return false;
            }
            answer.await.unwrap_or(false)
        }

        pub fn disconnect(&self, user: UserId, role: Role) {
            let _ = self.ops.send(Op::Disconnect(user, role));
        }

        pub async fn online_among(&self, users: &[UserId]) -> Vec<bool> {
            match cluster::presence::online_among(&self.redis, users).await {
                Ok(online) => online,
                Err(e) => {
                    // What this node knows beats nothing.
                    tracing::warn!(error = %crate::report::chain(&e), "presence: Redis unanswered");
                    let here = self.here.lock().unwrap_or_else(|p| p.into_inner());
                    users.iter().map(|u| here.contains_key(u)).collect()
                }
            }
        }

        pub async fn online_psychiatrists(&self) -> Vec<UserId> {
            match cluster::presence::online_psychiatrists(&self.redis).await {
                Ok(online) => online,
                Err(e) => {
                    tracing::warn!(error = %crate::report::chain(&e), "presence: Redis unanswered");
                    let here = self.here.lock().unwrap_or_else(|p| p.into_inner());
                    here.iter()
                        .filter(|(_, (role, _))| *role == Role::Psychiatrist)
                        .map(|(user, _)| *user)
                        .collect()
                }
            }
        }

        /// Applies what is queued, then hands this node's users to grace and gives up the
        /// lease.
        pub async fn shut_down(&self, grace: Duration) {
            let (done, flushed) = oneshot::channel();
            if self.ops.send(Op::Flush(done)).is_ok() {
                let _ = flushed.await;
            }
            if let Err(e) = cluster::presence::release(&self.redis, grace).await {
                tracing::warn!(error = %crate::report::chain(&e), "presence: lease not released");
            }
        }
    }

    struct Worker {
        redis: Redis,
        here: Arc<Mutex<Here>>,
        presence: Arc<Presence>,
        /// Redis may not hold what `here` says (a call failed, the lease was lost).
        dirty: bool,
    }

    impl Worker {
        async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Op>) {
            let mut ticks = tokio::time::interval(TICK);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut renewed = tokio::time::Instant::now() - RENEW_EVERY;
            loop {
                tokio::select! {
                    op = rx.recv() => match op {
                        Some(op) => self.apply(op).await,
                        None => return,
                    },
                    _ = ticks.tick() => {
                        if renewed.elapsed() >= RENEW_EVERY {
                            renewed = tokio::time::Instant::now();
                            self.renew().await;
                        }
                        if self.dirty {
                            self.sync().await;
                        }
                        self.announce_departures().await;
                    }
                }
            }
        }

        fn count(&self, user: UserId, role: Role, change: i64) {
            let mut here = self.here.lock().unwrap_or_else(|p| p.into_inner());
            let entry = here.entry(user).or_insert((role, 0));
            entry.1 = (i64::from(entry.1) + change).max(0) as u32;
            if entry.1 == 0 {
                here.remove(&user);
            }
        }

        fn failed(&mut self, error: &cluster::ClusterError) {
            if !self.dirty {
                tracing::warn!(error = %crate::report::chain(error), "presence: Redis unanswered; will resync");
            }
            self.dirty = true;
        }

        async fn apply(&mut self, op: Op) {
            match op {
                Op::Connect(user, role, reply) => {
                    self.count(user, role, 1);
                    let came = if self.dirty {
                        false
                    } else {
                        match cluster::presence::connect(&self.redis, user, role).await {
                            Ok(came) => came,
                            Err(e) => {
                                self.failed(&e);
                                false
                            }
                        }
                    };
                    let _ = reply.send(came);
                }
                Op::Disconnect(user, role) => {
                    self.count(user, role, -1);
                    if !self.dirty {
                        let grace = self.presence.grace;
                        if let Err(e) =
                            cluster::presence::disconnect(&self.redis, user, role, grace).await
                        {
                            self.failed(&e);
                        }
                    }
                }
                Op::Flush(done) => {
                    if self.dirty {
                        self.sync().await;
                    }
                    let _ = done.send(());
                }
            }
        }

        async fn renew(&mut self) {
            match cluster::presence::renew_lease(&self.redis, LEASE).await {
                // No lease: Redis has forgotten this node's sockets, or never knew them.
                Ok(had) => self.dirty |= !had,
                Err(e) => self.failed(&e),
            }
        }

        /// Tells Redis again everything this node holds; announces who came back by it.
        async fn sync(&mut self) {
            let here: Vec<(UserId, Role, u32)> = self
                .here
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(user, (role, sockets))| (*user, *role, *sockets))
                .collect();
            match cluster::presence::sync(&self.redis, &here, self.presence.grace).await {
                Ok(came) => {
                    self.dirty = false;
                    for (user, role) in came {
                        self.presence.came_online(user, role).await;
                    }
                }
                Err(e) => self.failed(&e),
            }
        }

        async fn announce_departures(&mut self) {
            match cluster::presence::due(&self.redis).await {
                Ok(gone) => {
                    for (user, role, at) in gone {
                        self.presence.went_offline(user, role, at).await;
                    }
                }
                Err(e) => self.failed(&e),
            }
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
