//! Slows down password guessing and bulk registration, in this process's memory (a
//! restart forgets it, which only helps legitimate users). `cluster::limits` keeps the same
//! rules in Redis for several nodes.
//!
//! Every attempt is *reserved* before the expensive argon2 work and counted as a failure
//! until it is known to have succeeded, all under one lock: a burst of parallel requests
//! cannot slip past a check that would only count them after hashing.
//!
//! - Per client address: at most `per_address` failed sign-ins, and at most
//!   `registrations_per_address` registrations, within a sliding window.
//! - Per username: after `per_username` failures, each further attempt must wait twice as
//!   long as the one before (1 s, 2 s, 4 s, …) after the latest failure, but never longer
//!   than `max_delay`. A guesser is slowed to one try per `max_delay`; the real owner is
//!   never locked out for longer than that (docs/security.md).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::SignInReservation;

/// Limits for [`Throttle`].
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// How long failures and registrations are remembered.
    pub window: Duration,
    /// Failures per username before each attempt must wait.
    pub per_username: u32,
    /// The longest wait a username's failures can impose.
    pub max_delay: Duration,
    /// Failed sign-ins per address within the window.
    pub per_address: usize,
    /// Registrations per address within the window.
    pub registrations_per_address: usize,
}

impl Default for ThrottleLimits {
    /// Far above what a person mistyping meets, far below what guessing needs.
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_username: 5,
            max_delay: Duration::from_secs(5 * 60),
            per_address: 40,
            registrations_per_address: 10,
        }
    }
}

/// Timestamps per key within a sliding window.
#[derive(Debug)]
struct SlidingWindow<K> {
    hits: HashMap<K, VecDeque<Instant>>,
}

/// Past this many tracked keys, stale ones are swept.
const SWEEP_AT: usize = 10_000;

impl<K: Hash + Eq> SlidingWindow<K> {
    fn new() -> Self {
        Self {
            hits: HashMap::new(),
        }
    }

    /// How long `key` must wait for a free slot (`None`: there is one now).
    fn wait(&mut self, key: &K, limit: usize, window: Duration, now: Instant) -> Option<Duration> {
        let times = self.hits.get_mut(key)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() < limit {
            return None;
        }
        // A slot frees up when enough hits have aged out of the window.
        let must_expire = times[times.len() - limit];
        Some(window.saturating_sub(now.duration_since(must_expire)))
    }

    fn record(&mut self, key: K, now: Instant, window: Duration) {
        if self.hits.len() > SWEEP_AT {
            self.hits.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        self.hits.entry(key).or_default().push_back(now);
    }

    /// Takes back one hit recorded at `at`.
    fn forget(&mut self, key: &K, at: Instant) {
        if let Some(times) = self.hits.get_mut(key) {
            if let Some(i) = times.iter().rposition(|t| *t == at) {
                times.remove(i);
            }
            if times.is_empty() {
                self.hits.remove(key);
            }
        }
    }
}

/// A username's run of failures.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    last: Instant,
}

#[derive(Debug)]
struct State {
    failures_by_address: SlidingWindow<IpAddr>,
    registrations_by_address: SlidingWindow<IpAddr>,
    by_username: HashMap<String, Backoff>,
}

/// Sign-in and registration throttles.
#[derive(Debug)]
pub struct Throttle {
    limits: ThrottleLimits,
    state: Mutex<State>,
}

impl Throttle {
    /// A throttle with the given limits, nothing counted yet.
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(State {
                failures_by_address: SlidingWindow::new(),
                registrations_by_address: SlidingWindow::new(),
                by_username: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The wait a username's failures impose at `now`, if any.
    fn username_wait(&self, backoff: &Backoff, now: Instant) -> Option<Duration> {
        let excess = backoff.failures.checked_sub(self.limits.per_username)?;
        let delay = Duration::from_secs(1u64 << excess.min(30)).min(self.limits.max_delay);
        (backoff.last + delay)
            .checked_duration_since(now)
            .filter(|wait| !wait.is_zero())
    }

    /// Reserves a sign-in attempt, or answers how long to wait.
    pub fn reserve_sign_in(
        &self,
        username: &str,
        address: IpAddr,
    ) -> Result<SignInReservation, Duration> {
        let now = Instant::now();
        let limits = self.limits;
        let mut state = self.lock();
        if state.by_username.len() > SWEEP_AT {
            state
                .by_username
                .retain(|_, b| now.duration_since(b.last) < limits.window);
        }
        let backoff = state
            .by_username
            .get(username)
            .copied()
            .filter(|b| now.duration_since(b.last) < limits.window);
        let by_name = backoff.and_then(|b| self.username_wait(&b, now));
        let by_address =
            state
                .failures_by_address
                .wait(&address, limits.per_address, limits.window, now);
        if let Some(wait) = by_name.max(by_address) {
            return Err(wait);
        }
        state
            .failures_by_address
            .record(address, now, limits.window);
        let failures = backoff.map_or(0, |b| b.failures) + 1;
        state.by_username.insert(
            username.to_owned(),
            Backoff {
                failures,
                last: now,
            },
        );
        Ok(SignInReservation {
            username: username.to_owned(),
            address,
            at: now,
            shared: None,
        })
    }

    /// The reserved attempt succeeded: the username starts afresh and the address is not
    /// charged for it.
    pub fn succeeded(&self, reservation: &SignInReservation) {
        let mut state = self.lock();
        state.by_username.remove(&reservation.username);
        state
            .failures_by_address
            .forget(&reservation.address, reservation.at);
    }

    /// Counts a registration from `address`, or answers how long to wait.
    pub fn reserve_registration(&self, address: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let limits = self.limits;
        let mut state = self.lock();
        if let Some(wait) = state.registrations_by_address.wait(
            &address,
            limits.registrations_per_address,
            limits.window,
            now,
        ) {
            return Err(wait);
        }
        state
            .registrations_by_address
            .record(address, now, limits.window);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ThrottleLimits {
        ThrottleLimits {
            window: Duration::from_secs(60),
            per_username: 3,
            max_delay: Duration::from_secs(4),
            per_address: 5,
            registrations_per_address: 2,
        }
    }

    #[test]
    fn a_username_waits_longer_after_each_failure_up_to_the_cap() {
        let throttle = Throttle::new(limits());
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let there: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            throttle
                .reserve_sign_in("alice", here)
                .expect("under the limit");
        }
        // Reserved, not yet failed: a parallel fourth attempt is already held back.
        let wait = throttle.reserve_sign_in("alice", there).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        // The delay doubles and stops at the cap.
        let mut state = throttle.lock();
        let b = state.by_username.get_mut("alice").unwrap();
        b.failures = 40;
        let capped = throttle.username_wait(b, b.last).unwrap();
        assert_eq!(capped, Duration::from_secs(4));
        b.last -= Duration::from_secs(5);
        assert_eq!(
            throttle.username_wait(b, Instant::now()),
            None,
            "cap passed"
        );
    }

    #[test]
    fn success_clears_the_username_and_does_not_charge_the_address() {
        let throttle = Throttle::new(limits());
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..2 {
            throttle.reserve_sign_in("bob", here).unwrap();
        }
        let ok = throttle.reserve_sign_in("bob", here).unwrap();
        throttle.succeeded(&ok);
        assert!(!throttle.lock().by_username.contains_key("bob"));
        // 2 failures charged to the address; 3 more fit under its limit of 5.
        for name in ["c", "d", "e"] {
            throttle.reserve_sign_in(name, here).unwrap();
        }
        assert!(throttle.reserve_sign_in("f", here).is_err());
        assert!(throttle
            .reserve_sign_in("f", "10.0.0.9".parse().unwrap())
            .is_ok());
    }

    #[test]
    fn registrations_per_address() {
        let throttle = Throttle::new(limits());
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(throttle.reserve_registration(here).is_ok());
        assert!(throttle.reserve_registration(here).is_ok());
        let wait = throttle.reserve_registration(here).unwrap_err();
        assert!(wait > Duration::from_secs(55));
        assert!(throttle
            .reserve_registration("10.0.0.2".parse().unwrap())
            .is_ok());
    }
}
