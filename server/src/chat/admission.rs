//! Admission: past what the server can answer in time, a send is refused at once with
//! `busy` instead of joining a queue that every other sender then waits behind.
//!
//! Three signs that the server is behind by more than its limit ([`BEHIND_LIMIT`] unless
//! configured):
//! - its runtime has not rested for that long: no worker parked once in all the ticks
//!   ([`TICK`]) of the limit, so tasks were ready all along and frames are waiting in the
//!   sockets' buffers, where no delay of Haven's can see them. While that lasts, a growing
//!   share of sends is refused (a share, not all: the server is at its limit, not past all
//!   use); once it rests again, the share shrinks;
//! - the runtime's delay: how late a timer's task runs after it was due (every send is
//!   refused);
//! - the writer's: how long the oldest message not yet committed has waited
//!   ([`MessageWriter::delay`]), which also sees a commit stuck on the disk or a lock (every
//!   send is refused).
//!
//! Refusing costs a fraction of accepting (no write, no fan-out), so shedding what is beyond
//! the limit keeps the accepted messages' latency bounded. A refused message was not taken:
//! the client keeps it *sending* and offers it again later with the same `clientId`
//! (docs/protocol.md), so nothing is lost or stored twice.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::writer::MessageWriter;

/// Behind by more than this, new messages are refused: well under a person's sense of
/// "instant", and far from the 5 s after which a client offers a message again. The
/// default of `HAVEN_BUSY_AFTER_MS`.
pub const BEHIND_LIMIT: Duration = Duration::from_millis(100);
/// How often the runtime's delay and rest are measured.
pub const TICK: Duration = Duration::from_millis(10);
/// Shares are counted in 1/[`WHOLE`]ths.
const WHOLE: u32 = 1024;
/// Each tick without rest refuses this much more of the sends (a tenth of a second of a
/// runtime that never rests refuses half)...
const SHED_MORE: u32 = WHOLE / 20;
/// ...and each tick with rest this much less (twice as slowly: a server just below its limit
/// should not swing back over it).
const SHED_LESS: u32 = WHOLE / 50;
/// Never more than this share is refused for want of rest: some messages always get through,
/// and their latency shows whether the server recovers.
const SHED_MOST: u32 = WHOLE * 19 / 20;

/// The gauges the admission rule reads.
#[derive(Debug)]
pub struct Admission {
    /// Behind by more than this (microseconds), sends are refused.
    limit: AtomicU64,
    /// The runtime's delay at the last tick, in microseconds.
    runtime_lag: AtomicU64,
    /// How long the runtime has gone without rest, in microseconds (0: it rested in the
    /// last tick).
    unrested: AtomicU64,
    /// The share of sends refused now, in 1/[`WHOLE`]ths.
    shed: AtomicU32,
    /// Sends seen, to spread the refused share evenly over them.
    arrivals: AtomicU32,
}

impl Default for Admission {
    fn default() -> Self {
        Self::new(BEHIND_LIMIT)
    }
}

/// The share to refuse after a tick, from the share before and whether the runtime has
/// gone longer than the limit without rest.
fn next_shed(shed: u32, overworked: bool) -> u32 {
    if overworked {
        (shed + SHED_MORE).min(SHED_MOST)
    } else {
        shed.saturating_sub(SHED_LESS)
    }
}

/// The pause before a refused sender's next offer that the server asks for (the middle of
/// it: the browser spreads its pauses ±50%): the share refused now says how far the offered
/// load is past what the server takes, so the pause grows with it, from
/// [`FIRST_RETRY_AFTER`] when nothing is shed to 20 times that at the most shed share.
/// Never shorter than twice how far behind the server is (a stuck writer's backlog needs
/// that long to clear), never longer than [`LONGEST_RETRY_AFTER`]. Without it the offers
/// again of a growing backlog became most of what an overloaded server did (18 refusals
/// per accepted message at twice the ceiling, docs/benchmarks.md).
fn retry_after(shed: u32, behind: Duration) -> Duration {
    let taken = f64::from(WHOLE - shed.min(SHED_MOST)) / f64::from(WHOLE);
    FIRST_RETRY_AFTER
        .div_f64(taken)
        .max(behind.saturating_mul(2))
        .min(LONGEST_RETRY_AFTER)
}

/// The pause asked for when the server is only just past its limit.
pub const FIRST_RETRY_AFTER: Duration = Duration::from_millis(500);
/// The longest pause asked for.
pub const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Whether the `arrival`-th send falls in a refused share of `shed`/[`WHOLE`]: spread over
/// arrivals by a multiplicative hash, so that a share of a half refuses every other send
/// rather than runs of them.
fn refused(arrival: u32, shed: u32) -> bool {
    (arrival.wrapping_mul(0x9E37_79B9) >> 22) < shed
}

impl Admission {
    /// The rule with its limit.
    pub fn new(limit: Duration) -> Self {
        Self {
            limit: AtomicU64::new(limit.as_micros() as u64),
            runtime_lag: AtomicU64::new(0),
            unrested: AtomicU64::new(0),
            shed: AtomicU32::new(0),
            arrivals: AtomicU32::new(0),
        }
    }

    /// Changes the limit (the server's configuration, read after the service is built).
    pub fn set_limit(&self, limit: Duration) {
        self.limit
            .store(limit.as_micros() as u64, Ordering::Relaxed);
    }

    fn limit(&self) -> Duration {
        Duration::from_micros(self.limit.load(Ordering::Relaxed))
    }

    /// Whether a message arriving now must be refused: `None` if it is taken, or the pause
    /// to ask its sender for ([`retry_after`]).
    pub fn refusal(&self, writer: &MessageWriter) -> Option<Duration> {
        let behind = self.behind(writer);
        let shed = self.shed.load(Ordering::Relaxed);
        let refuse = behind > self.limit()
            || shed > 0 && refused(self.arrivals.fetch_add(1, Ordering::Relaxed), shed);
        refuse.then(|| retry_after(shed, behind))
    }

    /// The share of sends refused now (0 to 1), for `/metrics`.
    pub fn shedding(&self) -> f64 {
        f64::from(self.shed.load(Ordering::Relaxed)) / f64::from(WHOLE)
    }

    /// Records whether the runtime rested (parked at least once) during the last tick,
    /// which lasted `tick`.
    pub fn runtime_rested(&self, rested: bool, tick: Duration) {
        let unrested = if rested {
            0
        } else {
            self.unrested.load(Ordering::Relaxed) + tick.as_micros() as u64
        };
        self.unrested.store(unrested, Ordering::Relaxed);
        let overworked = Duration::from_micros(unrested) > self.limit();
        let shed = self.shed.load(Ordering::Relaxed);
        self.shed
            .store(next_shed(shed, overworked), Ordering::Relaxed);
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

/// Measures the runtime for ever: a timer due every [`TICK`], how late its task runs, and
/// whether any worker parked meanwhile. Spawned by the server (not in the domain's tests,
/// whose paused clock would turn the ticks into busy work).
pub async fn watch_runtime(admission: Arc<Admission>) {
    let metrics = tokio::runtime::Handle::current().metrics();
    let parks = || {
        (0..metrics.num_workers())
            .map(|worker| metrics.worker_park_count(worker))
            .sum::<u64>()
    };
    let mut parked = parks();
    loop {
        let started = Instant::now();
        let due = started + TICK;
        tokio::time::sleep_until(due.into()).await;
        let now = Instant::now();
        admission.runtime_was_late(now.saturating_duration_since(due));
        let parks_now = parks();
        admission.runtime_rested(parks_now != parked, now - started);
        parked = parks_now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_is_refused_only_after_the_limit_without_rest() {
        let admission = Admission::new(BEHIND_LIMIT);
        // A long task (a big page) holds the runtime for less than the limit: nothing shed.
        for _ in 0..9 {
            admission.runtime_rested(false, TICK);
        }
        assert_eq!(admission.shedding(), 0.0);
        admission.runtime_rested(true, TICK);
        for _ in 0..10 {
            admission.runtime_rested(false, TICK);
        }
        assert_eq!(
            admission.shedding(),
            0.0,
            "the count starts again after a rest"
        );
        // Past the limit without rest: a share, growing.
        admission.runtime_rested(false, TICK);
        let first = admission.shedding();
        admission.runtime_rested(false, TICK);
        assert!(first > 0.0 && admission.shedding() > first);
        // A rest: the share shrinks.
        admission.runtime_rested(true, TICK);
        assert!(admission.shedding() < first * 2.0);
    }

    #[test]
    fn a_runtime_without_rest_sheds_a_growing_share_and_recovers_slowly() {
        let mut shed = 0;
        for _ in 0..10 {
            shed = next_shed(shed, true);
        }
        assert!(
            shed.abs_diff(WHOLE / 2) < WHOLE / 50,
            "a tenth of a second without rest: about half, {shed}"
        );
        for _ in 0..100 {
            shed = next_shed(shed, true);
        }
        assert_eq!(shed, SHED_MOST, "never everything");
        shed = next_shed(shed, false);
        assert_eq!(shed, SHED_MOST - SHED_LESS);
        for _ in 0..100 {
            shed = next_shed(shed, false);
        }
        assert_eq!(shed, 0);
    }

    #[test]
    fn the_pause_asked_for_grows_with_the_share_refused_and_the_delay() {
        let ms = |shed, behind_ms| retry_after(shed, Duration::from_millis(behind_ms)).as_millis();
        assert_eq!(ms(0, 0), 500);
        assert_eq!(ms(WHOLE / 2, 0), 1000);
        // About 20 times the first pause at the most shed share (19/20 in 1/1024ths).
        let most = ms(SHED_MOST, 0);
        assert!((9_800..=10_000).contains(&most), "{most}");
        assert_eq!(ms(WHOLE, 0), most, "never past the most shed share");
        // A stuck writer's backlog needs about twice its delay to clear.
        assert_eq!(ms(0, 2_000), 4_000);
        assert_eq!(ms(0, 3_600_000), 30_000);
    }

    #[test]
    fn a_share_refuses_that_share_of_sends_spread_out() {
        for share in [0, WHOLE / 10, WHOLE / 2, SHED_MOST] {
            let refusals = (0..10_000).filter(|&n| refused(n, share)).count();
            let expected = 10_000 * share as usize / WHOLE as usize;
            assert!(refusals.abs_diff(expected) < 100, "{share}: {refusals}");
        }
        // Half refused: never a long run of refusals in a row.
        let longest = (0..10_000u32)
            .fold((0, 0), |(run, longest), n| {
                let run = if refused(n, WHOLE / 2) { run + 1 } else { 0 };
                (run, longest.max(run))
            })
            .1;
        assert!(longest <= 4, "{longest}");
    }

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
