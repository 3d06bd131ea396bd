//! Slows down password guessing: too many failed sign-ins for one username, or from one
//! client address, within a window, and further attempts are refused until the oldest
//! failure leaves the window. Kept in memory: a restart forgets it, which only helps the
//! legitimate user.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits for [`LoginThrottle`].
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    pub window: Duration,
    pub per_username: usize,
    pub per_address: usize,
}

impl Default for ThrottleLimits {
    /// 8 failures per username and 40 per address in 15 minutes: far above what a person
    /// mistyping meets, far below what guessing needs.
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_username: 8,
            per_address: 40,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Username(String),
    Address(IpAddr),
}

/// Failed sign-ins per username and per address.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: ThrottleLimits,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

/// Past this many tracked keys, stale ones are swept on the next failure.
const SWEEP_AT: usize = 10_000;

impl LoginThrottle {
    /// A throttle with the given limits.
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` if an attempt for this username from this address must wait.
    pub fn check(&self, username: &str, address: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut failures = self.lock();
        let by_name = self.wait(
            &mut failures,
            Key::Username(username.to_owned()),
            self.limits.per_username,
            now,
        );
        let by_address = self.wait(
            &mut failures,
            Key::Address(address),
            self.limits.per_address,
            now,
        );
        match by_name.max(by_address) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt.
    pub fn record_failure(&self, username: &str, address: IpAddr) {
        let now = Instant::now();
        let mut failures = self.lock();
        if failures.len() > SWEEP_AT {
            let window = self.limits.window;
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        for key in [Key::Username(username.to_owned()), Key::Address(address)] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful sign-in clears the username's failures (not the address's).
    pub fn record_success(&self, username: &str) {
        self.lock().remove(&Key::Username(username.to_owned()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        // A panic while holding the lock cannot leave the map inconsistent; keep going.
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops failures older than the window; answers how long to wait if the limit is reached.
    fn wait(
        &self,
        failures: &mut HashMap<Key, VecDeque<Instant>>,
        key: Key,
        limit: usize,
        now: Instant,
    ) -> Option<Duration> {
        let times = failures.get_mut(&key)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.limits.window)
        {
            times.pop_front();
        }
        if times.is_empty() {
            failures.remove(&key);
            return None;
        }
        if times.len() < limit {
            return None;
        }
        // The attempt may go ahead once enough failures have aged out of the window.
        let oldest_that_must_expire = times[times.len() - limit];
        Some(
            self.limits
                .window
                .saturating_sub(now.duration_since(oldest_that_must_expire)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_per_username_and_address() {
        let throttle = LoginThrottle::new(ThrottleLimits {
            window: Duration::from_secs(60),
            per_username: 3,
            per_address: 5,
        });
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(throttle.check("alice", here).is_ok());
            throttle.record_failure("alice", here);
        }
        let wait = throttle.check("alice", here).unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
        // Another username from the same address still has 2 attempts left.
        assert!(throttle.check("bob", here).is_ok());
        throttle.record_failure("bob", here);
        throttle.record_failure("bob", here);
        assert!(throttle.check("carol", here).is_err());
        // Success clears the username, not the address.
        throttle.record_success("alice");
        assert!(throttle.check("alice", "10.0.0.1".parse().unwrap()).is_ok());
    }
}
