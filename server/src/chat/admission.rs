//! Admission: past what the server can answer in time, a send is refused at once with
//! `busy` instead of joining a queue that every other sender then waits behind.
//!
//! Two delays say the server is behind, and either is enough:
//! - the runtime's: how late a task runs after it could have ([`watch_runtime`] measures
//!   it every [`TICK`] with a timer that should fire on time). When the CPU cannot keep up,
//!   every socket's frames wait in this queue, whatever they carry;
//! - the writer's: how long the oldest message not yet committed has waited
//!   ([`MessageWriter::delay`]), which also sees a commit stuck on the disk or a lock.
//!
//! Refusing costs a fraction of accepting (no write, no fan-out), so shedding what is
//! beyond the limit keeps the accepted messages' latency bounded. A refused message was not
//! taken: the client keeps it *sending* and offers it again later with the same `clientId`
//! (docs/protocol.md), so nothing is lost or stored twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::writer::MessageWriter;

/// Behind by more than this, new messages are refused: well under a person's sense of
/// "instant", and far from the 10 s after which a client gives up on an ack.
pub const BEHIND_LIMIT: Duration = Duration::from_millis(100);
/// How often the runtime's delay is measured.
pub const TICK: Duration = Duration::from_millis(10);

/// The delays the admission rule reads.
#[derive(Debug, Default)]
pub struct Admission {
    /// The runtime's delay at the last tick, in microseconds.
    runtime_lag: AtomicU64,
}

impl Admission {
    /// Whether a message arriving now must be refused.
    pub fn busy(&self, writer: &MessageWriter) -> bool {
        self.behind(writer) > BEHIND_LIMIT
    }

    /// How far behind the server is now: the larger of the two delays.
    pub fn behind(&self, writer: &MessageWriter) -> Duration {
        self.runtime_lag().max(writer.delay())
    }

    /// The runtime's delay as last measured.
    pub fn runtime_lag(&self) -> Duration {
        Duration::from_micros(self.runtime_lag.load(Ordering::Relaxed))
    }

    /// Records how late a timer fired.
    pub fn runtime_was_late(&self, by: Duration) {
        self.runtime_lag
            .store(by.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Measures the runtime's delay for ever: a timer due every [`TICK`] and how late its task
/// runs. Spawned by the server (not in the domain's tests, whose paused clock would turn the
/// ticks into busy work).
pub async fn watch_runtime(admission: Arc<Admission>) {
    loop {
        let due = Instant::now() + TICK;
        tokio::time::sleep_until(due.into()).await;
        admission.runtime_was_late(Instant::now().saturating_duration_since(due));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runtime_held_up_is_seen_late_then_on_time_again() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let admission = Arc::new(Admission::default());
        rt.block_on(async {
            tokio::spawn(watch_runtime(admission.clone()));
            // Let the watch take its first tick, then hold the only thread as a flood of
            // work would.
            tokio::time::sleep(TICK * 2).await;
            std::thread::sleep(BEHIND_LIMIT * 2);
            // The watch runs next and sees how late it is.
            while admission.runtime_lag() < BEHIND_LIMIT {
                tokio::task::yield_now().await;
            }
            // And once the thread is free, it sees itself on time again.
            while admission.runtime_lag() >= BEHIND_LIMIT {
                tokio::time::sleep(TICK).await;
            }
        });
    }
}
