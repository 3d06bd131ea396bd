//! What `/metrics` reports, in Prometheus' text format: counts only, never a body, a name or
//! an id. Process-wide atomics, bumped where the thing happens.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the batch-size histogram (messages per commit).
const BATCH_BUCKETS: [u64; 9] = [1, 2, 4, 8, 16, 64, 256, 1024, u64::MAX];

/// The counters.
pub struct Metrics {
    sockets: AtomicI64,
    stored: AtomicU64,
    batches: [AtomicU64; BATCH_BUCKETS.len()],
    batch_sum: AtomicU64,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    /// Web Push outcomes, by [`PushOutcome`].
    pushes: [AtomicU64; PushOutcome::ALL.len()],
}

/// What became of one Web Push request (or of one that never left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// The push service accepted it.
    Sent,
    /// Refused for good, or still failing after every retry.
    Failed,
    /// The push service said the subscription is gone (404/410): removed.
    Removed,
    /// Tried again later (429, 5xx, or no answer).
    Retried,
    /// Not queued: the queue was full.
    Dropped,
}

impl PushOutcome {
    const ALL: [PushOutcome; 5] = [
        PushOutcome::Sent,
        PushOutcome::Failed,
        PushOutcome::Removed,
        PushOutcome::Retried,
        PushOutcome::Dropped,
    ];

    fn as_str(self) -> &'static str {
        match self {
            PushOutcome::Sent => "sent",
            PushOutcome::Failed => "failed",
            PushOutcome::Removed => "removed",
            PushOutcome::Retried => "retried",
            PushOutcome::Dropped => "dropped",
        }
    }
}

/// This process's counters.
pub static METRICS: Metrics = Metrics {
    sockets: AtomicI64::new(0),
    stored: AtomicU64::new(0),
    batches: [const { AtomicU64::new(0) }; BATCH_BUCKETS.len()],
    batch_sum: AtomicU64::new(0),
    errors: Mutex::new(BTreeMap::new()),
    pushes: [const { AtomicU64::new(0) }; PushOutcome::ALL.len()],
};

impl Metrics {
    /// A socket joined this node.
    pub fn socket_opened(&self) {
        self.sockets.fetch_add(1, Ordering::Relaxed);
    }

    /// A socket of this node closed.
    pub fn socket_closed(&self) {
        self.sockets.fetch_sub(1, Ordering::Relaxed);
    }

    /// A commit of `size` messages, `new` of them stored for the first time.
    pub fn batch_committed(&self, size: usize, new: usize) {
        self.stored.fetch_add(new as u64, Ordering::Relaxed);
        self.batch_sum.fetch_add(size as u64, Ordering::Relaxed);
        let bucket = BATCH_BUCKETS
            .iter()
            .position(|bound| size as u64 <= *bound)
            .unwrap_or(BATCH_BUCKETS.len() - 1);
        self.batches[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// A request refused or failed with `code` (the ack and log code).
    pub fn error(&self, code: app::error::ErrorCode) {
        *self
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(code.as_str())
            .or_default() += 1;
    }

    /// A Web Push request ended so (or was retried, or never queued).
    pub fn push(&self, outcome: PushOutcome) {
        let at = PushOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or(0);
        self.pushes[at].fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition, with the gauges only the caller knows.
    pub fn render(
        &self,
        writer_queue: usize,
        behind: std::time::Duration,
        shedding: f64,
        redis_up: Option<bool>,
    ) -> String {
        let mut out = String::new();
        let sockets = self.sockets.load(Ordering::Relaxed).max(0);
        let _ = writeln!(
            out,
            "# HELP haven_sockets_connected Socket.IO connections on this node.\n\
             # TYPE haven_sockets_connected gauge\nhaven_sockets_connected {sockets}"
        );
        let _ = writeln!(
            out,
            "# HELP haven_messages_stored_total Messages this node stored (not repeats).\n\
             # TYPE haven_messages_stored_total counter\nhaven_messages_stored_total {}",
            self.stored.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP haven_writer_batch_size Messages per commit of the writer.\n\
             # TYPE haven_writer_batch_size histogram"
        );
        let mut cumulative = 0;
        for (bound, count) in BATCH_BUCKETS.iter().zip(&self.batches) {
            cumulative += count.load(Ordering::Relaxed);
            let le = if *bound == u64::MAX {
                "+Inf".to_owned()
            } else {
                bound.to_string()
            };
            let _ = writeln!(
                out,
                "haven_writer_batch_size_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "haven_writer_batch_size_sum {}\nhaven_writer_batch_size_count {cumulative}",
            self.batch_sum.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP haven_writer_queue_depth Messages waiting for the writer.\n\
             # TYPE haven_writer_queue_depth gauge\nhaven_writer_queue_depth {writer_queue}"
        );
        let _ = writeln!(
            out,
            "# HELP haven_behind_seconds How far behind this node is (its runtime's delay or \
             its writer's, the larger); past 0.1 new messages are refused `busy`.\n\
             # TYPE haven_behind_seconds gauge\nhaven_behind_seconds {:.6}",
            behind.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "# HELP haven_shedding_ratio The share of new messages refused `busy` because this \
             node's runtime has had no rest (0: none).\n\
             # TYPE haven_shedding_ratio gauge\nhaven_shedding_ratio {shedding:.3}"
        );
        let _ = writeln!(
            out,
            "# HELP haven_errors_total Requests refused or failed, by code.\n\
             # TYPE haven_errors_total counter"
        );
        for (code, count) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "haven_errors_total{{code=\"{code}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "# HELP haven_push_total Web Push requests by outcome (sent, failed, removed, \
             retried, dropped).\n# TYPE haven_push_total counter"
        );
        for (outcome, count) in PushOutcome::ALL.iter().zip(&self.pushes) {
            let _ = writeln!(
                out,
                "haven_push_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                count.load(Ordering::Relaxed)
            );
        }
        if let Some(up) = redis_up {
            let _ = writeln!(
                out,
                "# HELP haven_redis_up Whether this node reaches Redis (several nodes).\n\
                 # TYPE haven_redis_up gauge\nhaven_redis_up {}",
                u8::from(up)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_fall_in_cumulative_buckets() {
        let metrics = Metrics {
            sockets: AtomicI64::new(0),
            stored: AtomicU64::new(0),
            batches: [const { AtomicU64::new(0) }; BATCH_BUCKETS.len()],
            batch_sum: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            pushes: [const { AtomicU64::new(0) }; PushOutcome::ALL.len()],
        };
        metrics.batch_committed(1, 1);
        metrics.batch_committed(3, 2);
        metrics.error(app::error::ErrorCode::RateLimited);
        let text = metrics.render(0, std::time::Duration::ZERO, 0.0, None);
        assert!(
            text.contains("haven_writer_batch_size_bucket{le=\"1\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("haven_writer_batch_size_bucket{le=\"4\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("haven_writer_batch_size_bucket{le=\"+Inf\"} 2"),
            "{text}"
        );
        assert!(text.contains("haven_messages_stored_total 3"), "{text}");
        assert!(
            text.contains("haven_errors_total{code=\"rate_limited\"} 1"),
            "{text}"
        );
        assert!(!text.contains("haven_redis_up"), "one node: no Redis line");
    }
}
