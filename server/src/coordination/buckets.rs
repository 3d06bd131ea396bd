//! Token buckets per user and limit, in this process's memory. Buckets that have refilled
//! are swept, so the map holds recent actors only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use app::protocol::UserId;
use tokio::time::Instant;

use super::{Limit, Settings};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// How often refilled buckets are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct State {
    by_user: HashMap<(Limit, UserId), Bucket>,
    swept: Instant,
}

/// Token buckets for every [`Limit`], per user.
#[derive(Debug)]
pub struct Buckets {
    settings: Settings,
    state: Mutex<State>,
}

impl Buckets {
    /// Every bucket full.
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            state: Mutex::new(State {
                by_user: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }

    /// Takes one token of `limit` for `user`; `false` if there is none.
    pub fn take(&self, limit: Limit, user: UserId) -> bool {
        let rate = self.settings.rate(limit);
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if now.duration_since(state.swept) >= SWEEP_EVERY {
            let settings = self.settings;
            state.by_user.retain(|(limit, _), bucket| {
                now.duration_since(bucket.at) < settings.rate(*limit).refilled_after()
            });
            state.swept = now;
        }
        let bucket = state.by_user.entry((limit, user)).or_insert(Bucket {
            tokens: rate.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * rate.per_second;
        bucket.tokens = (bucket.tokens + refill).min(rate.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How many buckets are held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.state.lock().unwrap().by_user.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::SendRate;

    fn buckets(send: SendRate) -> Buckets {
        Buckets::new(Settings {
            send,
            ..Settings::default()
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_passes_then_the_rate_refills() {
        let buckets = buckets(SendRate {
            per_second: 2.0,
            burst: 3.0,
        });
        let user = UserId(1);
        assert!((0..3).all(|_| buckets.take(Limit::Send, user)));
        assert!(!buckets.take(Limit::Send, user), "the burst is spent");
        assert!(buckets.take(Limit::Send, UserId(2)), "buckets are per user");
        assert!(buckets.take(Limit::Typing, user), "and per limit");
        tokio::time::advance(Duration::from_millis(499)).await;
        assert!(!buckets.take(Limit::Send, user), "not a whole token yet");
        tokio::time::advance(Duration::from_millis(2)).await;
        assert!(
            buckets.take(Limit::Send, user),
            "half a second buys one at 2/s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refilled_buckets_are_swept() {
        let buckets = buckets(SendRate {
            per_second: 1000.0,
            burst: 1.0,
        });
        for user in 0..100 {
            buckets.take(Limit::Send, UserId(user));
        }
        assert_eq!(buckets.len(), 100);
        tokio::time::advance(SWEEP_EVERY).await;
        buckets.take(Limit::Send, UserId(1000));
        assert_eq!(buckets.len(), 1, "only the newest sender is left");
    }
}
