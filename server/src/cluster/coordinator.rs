//! Several nodes: the coordination port kept in Redis for every node, with this node's
//! own memory as the fallback while Redis does not answer (slower guessing per node, or a
//! node's own view of who is online, rather than no sign-in and no presence at all).
//!
//! Presence: this node's connection counts are applied to Redis by one task, in the order
//! the sockets came and went; the same task renews this node's lease and asks Redis who
//! went offline (whoever's grace ran out, on any node; whoever was only on a node that
//! died). A user goes offline exactly once: only the node whose script removed them is
//! told, and it reports the change.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::protocol::{Role, UserId};
use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{limits, presence, ClusterError, Redis};
use crate::coordination::{
    Buckets, Coordinator, Limit, PresenceChange, Settings, SignInReservation, Throttle,
};

/// How long a node's lease lasts: a node killed without warning has its users go offline
/// within this, plus one [`TICK`] (unless they are connected elsewhere).
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

/// This node's connections per user, with their role.
type Here = HashMap<UserId, (Role, u32)>;

/// The coordinator of one node among several.
pub struct Nodes {
    redis: Redis,
    settings: Settings,
    ops: mpsc::UnboundedSender<Op>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Op>>>,
    /// This node's sockets per user; only the presence task changes it.
    here: Arc<Mutex<Here>>,
    /// This node's buckets and throttle, for when Redis does not answer.
    buckets: Buckets,
    throttle: Throttle,
}

impl Nodes {
    /// Coordinates through `redis`.
    pub fn new(redis: Redis, settings: Settings) -> Self {
        let (ops, rx) = mpsc::unbounded_channel();
        Self {
            redis,
            settings,
            ops,
            rx: Mutex::new(Some(rx)),
            here: Arc::default(),
            buckets: Buckets::new(settings),
            throttle: Throttle::new(settings.sign_in),
        }
    }

    /// Redis, when it answers now.
    fn redis(&self) -> Option<&Redis> {
        Some(&self.redis).filter(|r| r.health().is_up())
    }

    fn here(&self) -> std::sync::MutexGuard<'_, Here> {
        self.here.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Redis failed a decision this node then makes alone.
fn alone(error: &ClusterError, what: &'static str) {
    tracing::warn!(error = %crate::report::chain(error), what, "decided on this node only");
}

#[async_trait]
impl Coordinator for Nodes {
    fn start(&self, changes: mpsc::UnboundedSender<PresenceChange>) {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(rx) = rx {
            let worker = Worker {
                redis: self.redis.clone(),
                here: self.here.clone(),
                grace: self.settings.grace,
                changes,
                dirty: true,
            };
            tokio::spawn(worker.run(rx));
        }
    }

    async fn connect(&self, user: UserId, role: Role) -> bool {
        let (reply, answer) = oneshot::channel();
        if self.ops.send(Op::Connect(user, role, reply)).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }

    fn disconnect(&self, user: UserId, role: Role) {
        let _ = self.ops.send(Op::Disconnect(user, role));
    }

    async fn online_among(&self, users: &[UserId]) -> Vec<bool> {
        match presence::online_among(&self.redis, users).await {
            Ok(online) => online,
            Err(e) => {
                // What this node knows beats nothing.
                alone(&e, "presence");
                let here = self.here();
                users.iter().map(|u| here.contains_key(u)).collect()
            }
        }
    }

    async fn online_psychiatrists(&self) -> Vec<UserId> {
        match presence::online_psychiatrists(&self.redis).await {
            Ok(online) => online,
            Err(e) => {
                alone(&e, "presence");
                self.here()
                    .iter()
                    .filter(|(_, (role, _))| *role == Role::Psychiatrist)
                    .map(|(user, _)| *user)
                    .collect()
            }
        }
    }

    /// Applies what is queued, then hands this node's users to grace and gives up the
    /// lease: the other nodes announce whoever does not come back.
    async fn shut_down(&self) -> Vec<UserId> {
        let (done, flushed) = oneshot::channel();
        if self.ops.send(Op::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
        if let Err(e) = presence::release(&self.redis, self.settings.grace).await {
            tracing::warn!(error = %crate::report::chain(&e), "presence: lease not released");
        }
        Vec::new()
    }

    async fn take(&self, limit: Limit, user: UserId) -> bool {
        if let Some(redis) = self.redis() {
            match limits::take_token(redis, limit.name(), user, self.settings.rate(limit)).await {
                Ok(taken) => return taken,
                Err(e) => alone(&e, limit.name()),
            }
        }
        self.buckets.take(limit, user)
    }

    async fn reserve_sign_in(
        &self,
        username: &str,
        address: IpAddr,
    ) -> Result<SignInReservation, Duration> {
        if let Some(redis) = self.redis() {
            match limits::reserve_sign_in(redis, username, address, self.settings.sign_in).await {
                Ok(answer) => return answer,
                Err(e) => alone(&e, "sign-in"),
            }
        }
        self.throttle.reserve_sign_in(username, address)
    }

    async fn sign_in_succeeded(&self, reservation: SignInReservation) {
        if reservation.shared.is_none() {
            return self.throttle.succeeded(&reservation);
        }
        if let Err(e) = limits::sign_in_succeeded(&self.redis, &reservation).await {
            alone(&e, "sign-in");
        }
    }

    async fn reserve_registration(&self, address: IpAddr) -> Result<(), Duration> {
        if let Some(redis) = self.redis() {
            let sign_in = self.settings.sign_in;
            let (limit, window) = (sign_in.registrations_per_address, sign_in.window);
            match limits::reserve_registration(redis, address, limit, window).await {
                Ok(answer) => return answer,
                Err(e) => alone(&e, "registration"),
            }
        }
        self.throttle.reserve_registration(address)
    }
}

/// The presence task: applies this node's changes to Redis in order, renews the lease,
/// reports departures and arrivals.
struct Worker {
    redis: Redis,
    here: Arc<Mutex<Here>>,
    grace: Duration,
    changes: mpsc::UnboundedSender<PresenceChange>,
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
                    self.report_departures().await;
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

    fn failed(&mut self, error: &ClusterError) {
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
                    match presence::connect(&self.redis, user, role).await {
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
                    if let Err(e) = presence::disconnect(&self.redis, user, role, self.grace).await
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
        match presence::renew_lease(&self.redis, LEASE).await {
            // No lease: Redis has forgotten this node's sockets, or never knew them.
            Ok(had) => self.dirty |= !had,
            Err(e) => self.failed(&e),
        }
    }

    /// Tells Redis again everything this node holds; reports who came back by it.
    async fn sync(&mut self) {
        let here: Vec<(UserId, Role, u32)> = self
            .here
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(user, (role, sockets))| (*user, *role, *sockets))
            .collect();
        match presence::sync(&self.redis, &here, self.grace).await {
            Ok(came) => {
                self.dirty = false;
                for (user, role) in came {
                    let _ = self.changes.send(PresenceChange::Online { user, role });
                }
            }
            Err(e) => self.failed(&e),
        }
    }

    async fn report_departures(&mut self) {
        match presence::due(&self.redis).await {
            Ok(gone) => {
                for (user, role, at) in gone {
                    let _ = self
                        .changes
                        .send(PresenceChange::Offline { user, role, at });
                }
            }
            Err(e) => self.failed(&e),
        }
    }
}
