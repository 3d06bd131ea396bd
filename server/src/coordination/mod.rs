//! The coordination port: what the domain must agree on with the other nodes of the
//! service, when there are any. Who is online (connections counted per user, a grace period
//! after the last one closes), the per-user limits on sending and typing, and the sign-in
//! and registration throttles.
//!
//! `chat` and `auth` hold a [`SharedCoordinator`] and know nothing of how it is kept. Two
//! implementations, one chosen at start: [`OneNode`] keeps everything in this process's
//! memory; `cluster::Nodes` keeps it in Redis for every node, with this module's in-memory
//! parts as its fallback while Redis does not answer. Both follow the same rules, written
//! once here for memory and once as Lua scripts for Redis.

mod buckets;
mod counts;
mod one_node;
mod throttle;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use app::protocol::{Role, Timestamp, UserId};
use async_trait::async_trait;
use tokio::sync::mpsc;

pub use buckets::Buckets;
pub use counts::Counts;
pub use one_node::OneNode;
pub use throttle::{Throttle, ThrottleLimits};

/// A per-user limit on something a client may do often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Sending messages.
    Send,
    /// Typing signals (a client sends one every few seconds at most).
    Typing,
}

impl Limit {
    /// Its name in logs and in shared keys.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Send => "send",
            Limit::Typing => "typing",
        }
    }
}

/// A token bucket's rate: short bursts pass, a flood does not.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendRate {
    /// Sustained actions a second.
    pub per_second: f64,
    /// Actions that may come at once after a pause.
    pub burst: f64,
}

impl Default for SendRate {
    /// 5 a second sustained, 20 at once: more than a person types, far less than a script.
    fn default() -> Self {
        Self {
            per_second: 5.0,
            burst: 20.0,
        }
    }
}

impl SendRate {
    /// After this long untouched, a bucket is full again: the same as no bucket.
    pub fn refilled_after(self) -> Duration {
        Duration::try_from_secs_f64(self.burst / self.per_second).unwrap_or(Duration::MAX)
    }
}

/// What every implementation is set up with.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a user stays online after their last connection closed (a reload must not
    /// show them offline).
    pub grace: Duration,
    /// Messages per user.
    pub send: SendRate,
    /// Typing signals per user.
    pub typing: SendRate,
    /// Sign-in and registration throttles.
    pub sign_in: ThrottleLimits,
}

impl Settings {
    /// Typing signals: 2 a second sustained, 6 at once.
    pub const TYPING: SendRate = SendRate {
        per_second: 2.0,
        burst: 6.0,
    };

    /// The rate of `limit`.
    pub fn rate(&self, limit: Limit) -> SendRate {
        match limit {
            Limit::Send => self.send,
            Limit::Typing => self.typing,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(5),
            send: SendRate::default(),
            typing: Self::TYPING,
            sign_in: ThrottleLimits::default(),
        }
    }
}

/// A change of presence decided after the fact: a grace period ran out, a node died, or
/// Redis came back and learned of connections again. (A connection that makes its user
/// come online is answered at once by [`Coordinator::connect`].)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresenceChange {
    /// `user` is online now.
    Online { user: UserId, role: Role },
    /// `user` went offline, last seen `at`.
    Offline {
        user: UserId,
        role: Role,
        at: Timestamp,
    },
}

/// A sign-in attempt holding its place in the throttle: counted as a failure unless
/// [`Coordinator::sign_in_succeeded`] is called with it.
#[derive(Debug, Clone)]
pub struct SignInReservation {
    pub(crate) username: String,
    pub(crate) address: IpAddr,
    pub(crate) at: tokio::time::Instant,
    /// Where it is held: `None` in this node's memory, or the attempt's id in the shared
    /// store.
    pub(crate) shared: Option<String>,
}

/// The port. Every method answers even when the shared store does not: an implementation
/// falls back to what this node knows rather than fail a send or a sign-in.
#[async_trait]
pub trait Coordinator: Send + Sync {
    /// Starts deciding presence over time; later changes ([`PresenceChange`]) are sent to
    /// `changes`. Called once.
    fn start(&self, changes: mpsc::UnboundedSender<PresenceChange>);

    /// A connection of `user` opened; `true` if they just came online (were neither
    /// connected nor within their grace period anywhere).
    async fn connect(&self, user: UserId, role: Role) -> bool;

    /// A connection of `user` closed. If it was their last, they go offline after the
    /// grace period unless one comes back (reported as [`PresenceChange::Offline`]).
    fn disconnect(&self, user: UserId, role: Role);

    /// Which of `users` count as online now (connected, or within the grace period).
    async fn online_among(&self, users: &[UserId]) -> Vec<bool>;

    /// Every psychiatrist online now (what a student sees).
    async fn online_psychiatrists(&self) -> Vec<UserId>;

    /// At shutdown, after the connections closed: the users whose presence ends with this
    /// process (last seen now). With several nodes, none: the others announce whoever
    /// does not come back.
    async fn shut_down(&self) -> Vec<UserId>;

    /// Takes one action of `limit` for `user`; `false` if their bucket is empty.
    async fn take(&self, limit: Limit, user: UserId) -> bool;

    /// Reserves a sign-in attempt before the password is checked, or answers how long to
    /// wait.
    async fn reserve_sign_in(
        &self,
        username: &str,
        address: IpAddr,
    ) -> Result<SignInReservation, Duration>;

    /// The reserved attempt succeeded: the username starts afresh and the address is not
    /// charged for it.
    async fn sign_in_succeeded(&self, reservation: SignInReservation);

    /// Counts a registration from `address`, or answers how long to wait.
    async fn reserve_registration(&self, address: IpAddr) -> Result<(), Duration>;
}

/// The coordinator the service was started with.
pub type SharedCoordinator = Arc<dyn Coordinator>;
