//! Per-user send rate: a token bucket, so short bursts (a few quick lines) pass and a flood
//! does not.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use app::protocol::UserId;

/// Rate settings.
#[derive(Debug, Clone, Copy)]
pub struct SendRate {
    /// Sustained messages a second.
    pub per_second: f64,
    /// Messages that may be sent at once after a pause.
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

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per user.
#[derive(Debug)]
pub struct SendLimiter {
    rate: SendRate,
    buckets: Mutex<HashMap<UserId, Bucket>>,
}

impl SendLimiter {
    /// A limiter with `rate`.
    pub fn new(rate: SendRate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `user`; `false` if there is none.
    pub fn try_acquire(&self, user: UserId) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(user).or_insert(Bucket {
            tokens: self.rate.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.rate.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refuse() {
        let limiter = SendLimiter::new(SendRate {
            per_second: 0.001,
            burst: 3.0,
        });
        let user = UserId(1);
        assert!((0..3).all(|_| limiter.try_acquire(user)));
        assert!(!limiter.try_acquire(user));
        assert!(limiter.try_acquire(UserId(2)), "buckets are per user");
    }
}
