//! Per-user send rate: a token bucket, so short bursts (a few quick lines) pass and a flood
//! does not. Buckets that have refilled are swept, so the map holds recent senders only.
//! With several nodes the buckets are kept in Redis (`cluster::limits`), shared by all;
//! when Redis does not answer, this node's own buckets decide.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::protocol::UserId;

use crate::cluster::{limits, Redis};

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

/// How often full buckets are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Buckets {
    by_user: HashMap<UserId, Bucket>,
    swept: Instant,
}

/// Token buckets per user.
pub struct SendLimiter {
    rate: SendRate,
    /// With several nodes: the shared buckets, under this name.
    shared: Option<(Redis, &'static str)>,
    /// After this long untouched, a bucket is full again: the same as no bucket.
    refilled_after: Duration,
    buckets: Mutex<Buckets>,
}

impl SendLimiter {
    /// A limiter with `rate`.
    pub fn new(rate: SendRate) -> Self {
        Self {
            rate,
            shared: None,
            refilled_after: Duration::try_from_secs_f64(rate.burst / rate.per_second)
                .unwrap_or(Duration::MAX),
            buckets: Mutex::new(Buckets {
                by_user: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// The same limit kept in Redis as `kind` for every node (`None`: in memory).
    pub fn shared_through(mut self, redis: Option<Redis>, kind: &'static str) -> Self {
        self.shared = redis.map(|redis| (redis, kind));
        self
    }

    /// Takes one token for `user`; `false` if there is none.
    pub async fn acquire(&self, user: UserId) -> bool {
        if let Some((redis, kind)) = self.shared.as_ref().filter(|(r, _)| r.health().is_up()) {
            let SendRate { per_second, burst } = self.rate;
            match limits::take_token(redis, kind, user, per_second, burst).await {
                Ok(taken) => return taken,
                Err(e) => tracing::warn!(
                    error = %crate::report::chain(&e),
                    kind,
                    "rate limit counted on this node only"
                ),
            }
        }
        self.try_acquire(user)
    }

    /// How many users have a bucket now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().unwrap().by_user.len()
    }

    /// Takes one token for `user` from this node's buckets; `false` if there is none.
    fn try_acquire(&self, user: UserId) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if now.duration_since(buckets.swept) >= SWEEP_EVERY {
            let refilled_after = self.refilled_after;
            buckets
                .by_user
                .retain(|_, b| now.duration_since(b.at) < refilled_after);
            buckets.swept = now;
        }
        let bucket = buckets.by_user.entry(user).or_insert(Bucket {
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

    #[test]
    fn refilled_buckets_are_swept() {
        let limiter = SendLimiter::new(SendRate {
            per_second: 1000.0,
            burst: 1.0,
        });
        for user in 0..100 {
            limiter.try_acquire(UserId(user));
        }
        assert_eq!(limiter.len(), 100);
        limiter.buckets.lock().unwrap().swept -= SWEEP_EVERY;
        std::thread::sleep(Duration::from_millis(5));
        limiter.try_acquire(UserId(1000));
        assert_eq!(limiter.len(), 1, "only the newest sender is left");
    }
}
