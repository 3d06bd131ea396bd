//! Group commit for messages: one writer owns message inserts and commits whatever has
//! queued up while the previous commit ran, in one transaction. Under light load a batch is
//! one message (no added latency); under heavy load the cost of a commit is shared by many.
//!
//! On PostgreSQL the writer is a task with a connection of its own, whose statements time
//! out after [`PG_STATEMENT_TIMEOUT`]: a batch commits within a bound, which catch-up's
//! overlap relies on (`store::postgres::messages`). Each batch is one constant statement
//! whatever its size, in one round trip.
//!
//! On SQLite the writer is an OS thread of its own with its own rusqlite connection, not a task on
//! the async runtime: a write can block on the disk (a WAL page still under writeback, a
//! checkpoint), and on the runtime's threads that would stall every socket. It costs one
//! hand-off per batch, not per statement, and its page cache stays warm. Reads still go
//! through the sqlx pool.
//!
//! Checkpoints (copying the WAL back into the database file, with an fsync) run on a third
//! thread and connection, not inside a commit: with SQLite's automatic checkpoint, every
//! thousandth page committed made one batch of senders wait for the disk.
//!
//! A batch holds many senders' messages, so one message must never fail the others
//! ([`Isolation`]): a batch whose transaction fails is split in halves and tried again, down
//! to the single message the database refuses, which alone gets the error. A failure that
//! says the database itself is unusable (no connection, I/O, a timeout) ends the search at
//! once: a broken database costs a sender one attempt, not one per message.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::sync::{mpsc, oneshot};

mod isolation;
#[cfg(test)]
mod tests;

use super::messages::{Inserted, NewMessage};
use super::{postgres, sqlite, Db, StoreError};
use isolation::{Failure, Isolation};

type Reply = oneshot::Sender<Result<Inserted, StoreError>>;

/// What the writer thread is asked to do, in queue order.
#[derive(Debug)]
enum Job {
    /// A message, who waits for it, and when it was queued.
    Insert(NewMessage, Reply, Instant),
    /// Answer once everything queued before is committed (graceful shutdown).
    Drain(oneshot::Sender<()>),
}

/// Handle to the writer thread; cheap to clone.
#[derive(Debug, Clone)]
pub struct MessageWriter {
    jobs: mpsc::Sender<Job>,
    oldest: Arc<Oldest>,
}

/// When the oldest message of the batch being committed was queued (microseconds after
/// [`epoch`], 0: no batch in hand): how far behind the writer is, readable at any moment,
/// also while a commit is stuck on the disk or a lock.
#[derive(Debug, Default)]
struct Oldest(AtomicU64);

/// The instant the writers' clocks count from (the first use in the process).
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Oldest {
    fn set(&self, queued: Option<Instant>) {
        let micros = queued.map_or(0, |at| {
            (at.saturating_duration_since(epoch()).as_micros() as u64).max(1)
        });
        self.0.store(micros, Ordering::Relaxed);
    }

    fn age(&self) -> Duration {
        match self.0.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            micros => epoch()
                .elapsed()
                .saturating_sub(Duration::from_micros(micros)),
        }
    }
}

/// Queued inserts beyond this wait for room (back-pressure on senders).
const QUEUE: usize = 8192;
/// Messages committed together at most.
const MAX_BATCH: usize = 1024;
/// Under load (the previous batch had company), how long the writer lets a batch fill
/// before committing it: fewer, larger commits write fewer pages per message, for at most
/// this much added latency. A lone message is committed at once.
const LINGER: Duration = Duration::from_millis(1);
/// How often the WAL is checkpointed (a no-op when nothing was written).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How often SQLite's planner statistics are refreshed where they drifted (`PRAGMA
/// optimize`, as SQLite advises for long-lived connections); also once at start.
const OPTIMIZE_EVERY: Duration = Duration::from_secs(3600);
/// The longest a statement of the PostgreSQL writer may run: a batch holds the id counter's
/// lock (`store::postgres::messages::insert_batch`), so a stuck one must not hold every
/// node's writer for long.
pub const PG_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the PostgreSQL writer waits for its connection before failing a batch.
const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A batch that meets a deadlock with another node's batch is tried again this often.
const PG_ATTEMPTS: usize = 3;

impl MessageWriter {
    /// Starts the writer on `db`. Fails (and the server does not start) when its
    /// connection or thread cannot be had, rather than running a server that accepts
    /// sockets and fails every send.
    pub fn spawn(db: &Db) -> Result<Self, StoreError> {
        match db {
            Db::Sqlite(pool) => Self::spawn_sqlite(pool.connect_options().get_filename()),
            Db::Postgres(pool) => Ok(Self::spawn_postgres(pool)),
        }
    }

    /// The writer on PostgreSQL: a task on a connection of its own (opened at the first
    /// batch and again after a failure; the server's pool has already reached the
    /// database). Must be called on the runtime.
    fn spawn_postgres(pool: &PgPool) -> Self {
        let timeout = format!("{}ms", PG_STATEMENT_TIMEOUT.as_millis());
        let options = (*pool.connect_options())
            .clone()
            .options([("statement_timeout", timeout.as_str())]);
        let writer = PgPoolOptions::new()
            .max_connections(1)
            // A database that cannot be reached fails the batch within this, not sqlx's
            // default 30 s: the sender learns at once, and their client tries again.
            .acquire_timeout(PG_CONNECT_TIMEOUT)
            .connect_lazy_with(options);
        let (jobs, rx) = mpsc::channel(QUEUE);
        let oldest = Arc::new(Oldest::default());
        tokio::spawn(run_postgres(writer, rx, oldest.clone()));
        Self { jobs, oldest }
    }

    /// The writer on SQLite: a thread with its own connection to the file at `path`, and a
    /// checkpoint thread beside it.
    fn spawn_sqlite(path: &std::path::Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let conn = open_writer(&path).map_err(StoreError::WriterStart)?;
        let (jobs, rx) = mpsc::channel(QUEUE);
        let oldest = Arc::new(Oldest::default());
        // The checkpointer stops when the writer does (its sender is dropped).
        let (writer_alive, stopped) = std::sync::mpsc::channel::<()>();
        let checkpoint_path = path.clone();
        let in_hand = oldest.clone();
        std::thread::Builder::new()
            .name("haven-writer".into())
            .spawn(move || run(path, conn, rx, in_hand, writer_alive))?;
        std::thread::Builder::new()
            .name("haven-checkpoint".into())
            .spawn(move || checkpoint(checkpoint_path, stopped))?;
        Ok(Self { jobs, oldest })
    }

    /// Stores one message; returns once it is committed.
    pub async fn insert(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Insert(message, reply, Instant::now()))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }

    /// How long the oldest message not yet committed has waited (zero when the writer
    /// has nothing in hand). Messages still in the queue behind the batch being committed
    /// are younger than its oldest, so this is the writer's whole delay.
    pub fn delay(&self) -> Duration {
        self.oldest.age()
    }

    /// Messages waiting for the writer now.
    pub fn queue_depth(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Whether the writer still takes messages (its thread or task has not ended).
    pub fn is_alive(&self) -> bool {
        !self.jobs.is_closed()
    }

    /// Returns once every message queued before this call is committed (or failed).
    pub async fn drain(&self) {
        let (done, answer) = oneshot::channel();
        if self.jobs.send(Job::Drain(done)).await.is_ok() {
            let _ = answer.await;
        }
    }
}

fn open(path: &PathBuf) -> Result<rusqlite::Connection, rusqlite::Error> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// The writer's connection: checkpoints are the checkpoint thread's, off the commit path.
fn open_writer(path: &PathBuf) -> Result<rusqlite::Connection, rusqlite::Error> {
    let conn = open(path)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    Ok(conn)
}

/// The checkpoint thread: a passive checkpoint every [`CHECKPOINT_EVERY`] (it never blocks
/// the writer) until the writer thread ends, and the planner's statistics kept current
/// (at start, then every [`OPTIMIZE_EVERY`]): queries stay on their indexes as tables grow.
fn checkpoint(path: PathBuf, writer_stopped: std::sync::mpsc::Receiver<()>) {
    let mut conn = None;
    let mut optimized: Option<std::time::Instant> = None;
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        writer_stopped.recv_timeout(CHECKPOINT_EVERY)
    {
        if conn.is_none() {
            conn = open(&path)
                .inspect_err(
                    |e| tracing::error!(error = %e, "checkpointer cannot open the database"),
                )
                .ok();
        }
        let Some(db) = conn.as_ref() else { continue };
        if optimized.is_none_or(|at| at.elapsed() >= OPTIMIZE_EVERY) {
            // 0x10002: every table, not only those this connection used (none); the
            // analysis limit keeps ANALYZE to a sample (milliseconds at any size).
            let pragma = "PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;";
            if let Err(e) = db.execute_batch(pragma) {
                tracing::warn!(error = %e, "refreshing the planner's statistics failed");
            }
            optimized = Some(std::time::Instant::now());
        }
        if let Err(e) = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
            conn = None;
        }
    }
}

/// Answers the drain requests waiting for the batch just committed.
fn release(drained: &mut Vec<oneshot::Sender<()>>) {
    for done in drained.drain(..) {
        let _ = done.send(());
    }
}

/// One batch being gathered: the messages, who waits for each, and drain requests.
#[derive(Default)]
struct Batch {
    messages: Vec<NewMessage>,
    replies: Vec<Reply>,
    drained: Vec<oneshot::Sender<()>>,
}

impl Batch {
    /// Adds `first` and everything that queued up behind it, up to [`MAX_BATCH`]; a drain
    /// request closes the batch.
    fn gather(&mut self, first: Job, rx: &mut mpsc::Receiver<Job>) {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Insert(message, reply, _) => {
                    self.messages.push(message);
                    self.replies.push(reply);
                }
                Job::Drain(done) => {
                    self.drained.push(done);
                    break;
                }
            }
            if self.messages.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
    }

    /// Answers every sender with its message's outcome, then the drain requests.
    fn answer(&mut self, answers: Vec<Result<Inserted, StoreError>>) {
        let new = answers
            .iter()
            .filter(|a| matches!(a, Ok(Inserted::New(_))))
            .count();
        crate::metrics::METRICS.batch_committed(answers.len(), new);
        for (reply, answer) in self.replies.drain(..).zip(answers) {
            let _ = reply.send(answer);
        }
        release(&mut self.drained);
    }
}

/// The PostgreSQL writer task: runs until every [`MessageWriter`] is dropped.
async fn run_postgres(db: PgPool, mut rx: mpsc::Receiver<Job>, in_hand: Arc<Oldest>) {
    let mut batch = Batch::default();
    let mut busy = false;
    while let Some(job) = rx.recv().await {
        if let Job::Insert(_, _, queued) = &job {
            in_hand.set(Some(*queued));
        }
        if busy {
            tokio::time::sleep(LINGER).await;
        }
        batch.gather(job, &mut rx);
        let size = batch.messages.len();
        if size == 0 {
            release(&mut batch.drained);
            continue;
        }
        let started = std::time::Instant::now();
        let messages = std::mem::take(&mut batch.messages);
        let answers = store_postgres(&db, &messages).await;
        tracing::debug!(
            size,
            micros = started.elapsed().as_micros() as u64,
            "batch committed"
        );
        batch.answer(answers);
        in_hand.set(None);
        busy = size > 1;
    }
}

/// Stores a batch on PostgreSQL, isolating failures; one answer per message, in order.
async fn store_postgres(db: &PgPool, messages: &[NewMessage]) -> Vec<Result<Inserted, StoreError>> {
    let mut isolation = Isolation::new(messages);
    while let Some(run) = isolation.next() {
        let outcome = insert_postgres(db, &messages[run.clone()]).await;
        isolation.record(run, outcome);
    }
    isolation.finish()
}

/// One transaction over `messages` on PostgreSQL, tried again when it met another node's
/// batch in a deadlock.
async fn insert_postgres(db: &PgPool, messages: &[NewMessage]) -> Result<Vec<Inserted>, Failure> {
    let mut attempt = 1;
    loop {
        match postgres::messages::insert_batch(db, messages).await {
            Err(e) if attempt < PG_ATTEMPTS && is_deadlock(&e) => attempt += 1,
            result => {
                return result.map_err(|e| Failure {
                    database_down: postgres_down(&e),
                    cause: error_chain(&e),
                })
            }
        }
    }
}

/// Whether a PostgreSQL error says the database is unusable rather than refusing a row:
/// the connection or pool failed, or the server reports a class of error that no row
/// causes (08 connection, 53 resources, 57 operator intervention and timeouts, 58 system,
/// XX internal).
fn postgres_down(error: &StoreError) -> bool {
    let StoreError::Database(error) = error else {
        return false;
    };
    match error {
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            ["08", "53", "57", "58", "XX"]
                .iter()
                .any(|c| code.starts_with(c))
        }),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Configuration(_) => true,
        _ => false,
    }
}

/// A batch that met another node's in a deadlock (PostgreSQL rolled it back whole).
fn is_deadlock(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(e)) if e.code().as_deref() == Some("40P01"))
}

/// An error with its causes, for the one log line of a failed batch.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The SQLite writer thread: runs until every [`MessageWriter`] is dropped.
fn run(
    path: PathBuf,
    conn: rusqlite::Connection,
    mut rx: mpsc::Receiver<Job>,
    in_hand: Arc<Oldest>,
    _checkpointer: std::sync::mpsc::Sender<()>,
) {
    let mut conn = Some(conn);
    let mut batch = Batch::default();
    let mut busy = false;
    while let Some(job) = rx.blocking_recv() {
        if let Job::Insert(_, _, queued) = &job {
            in_hand.set(Some(*queued));
        }
        if busy {
            std::thread::sleep(LINGER);
        }
        batch.gather(job, &mut rx);
        let size = batch.messages.len();
        if size == 0 {
            release(&mut batch.drained);
            continue;
        }
        if conn.is_none() {
            conn = open_writer(&path)
                .inspect_err(
                    |e| tracing::error!(error = %e, "message writer cannot open the database"),
                )
                .ok();
        }
        let started = std::time::Instant::now();
        let messages = std::mem::take(&mut batch.messages);
        let (answers, reopen) = match conn.as_mut() {
            Some(conn) => store_sqlite(conn, &messages),
            None => {
                let answers = Isolation::run(&messages, |_| {
                    Err(Failure {
                        cause: format!("cannot open {}", path.display()),
                        database_down: true,
                    })
                });
                (answers, true)
            }
        };
        tracing::debug!(
            size,
            micros = started.elapsed().as_micros() as u64,
            "batch committed"
        );
        if reopen {
            conn = None; // reopen for the next batch
        }
        batch.answer(answers);
        in_hand.set(None);
        busy = size > 1;
    }
}

/// Stores a batch on SQLite, isolating failures; one answer per message, in order, and
/// whether the connection should be opened again.
fn store_sqlite(
    conn: &mut rusqlite::Connection,
    messages: &[NewMessage],
) -> (Vec<Result<Inserted, StoreError>>, bool) {
    let mut broken = false;
    let answers = Isolation::run(messages, |run| {
        sqlite::messages::insert_batch(conn, run).map_err(|e| {
            let database_down = sqlite_down(&e);
            broken |= database_down;
            Failure {
                cause: error_chain(&e),
                database_down,
            }
        })
    });
    (answers, broken)
}

/// Whether a SQLite error says the database is unusable rather than refusing a row
/// (locked, I/O, full, corrupt, unopenable, read-only, out of memory).
fn sqlite_down(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    match error {
        rusqlite::Error::SqliteFailure(e, _) => matches!(
            e.code,
            C::DatabaseBusy
                | C::DatabaseLocked
                | C::SystemIoFailure
                | C::DiskFull
                | C::CannotOpen
                | C::DatabaseCorrupt
                | C::NotADatabase
                | C::ReadOnly
                | C::OutOfMemory
                | C::PermissionDenied
                | C::FileLockingProtocolFailed
        ),
        rusqlite::Error::InvalidPath(_) => true,
        _ => false,
    }
}
