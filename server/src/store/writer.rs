//! Group commit for messages: one thread owns message inserts and commits whatever has queued
//! up while the previous commit ran, in one transaction. Under light load a batch is one
//! message (no added latency); under heavy load the cost of a commit is shared by many.
//!
//! The writer is an OS thread of its own with its own rusqlite connection, not a task on
//! the async runtime: a write can block on the disk (a WAL page still under writeback, a
//! checkpoint), and on the runtime's threads that would stall every socket. It costs one
//! hand-off per batch, not per statement, and its page cache stays warm. Reads still go
//! through the sqlx pool.
//!
//! Checkpoints (copying the WAL back into the database file, with an fsync) run on a third
//! thread and connection, not inside a commit: with SQLite's automatic checkpoint, every
//! thousandth page committed made one batch of senders wait for the disk.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::messages::{self, Inserted, NewMessage};
use super::{Db, StoreError};

type Reply = oneshot::Sender<Result<Inserted, StoreError>>;

/// What the writer thread is asked to do, in queue order.
#[derive(Debug)]
enum Job {
    Insert(NewMessage, Reply),
    /// Answer once everything queued before is committed (graceful shutdown).
    Drain(oneshot::Sender<()>),
}

/// Handle to the writer thread; cheap to clone.
#[derive(Debug, Clone)]
pub struct MessageWriter {
    jobs: mpsc::Sender<Job>,
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

impl MessageWriter {
    /// Opens the writer's connection and starts its thread on the database file behind
    /// `db`. Fails (and the server does not start) when either is impossible, rather than
    /// running a server that accepts sockets and fails every send.
    pub fn spawn(db: &Db) -> Result<Self, StoreError> {
        let path = db.connect_options().get_filename().to_path_buf();
        let conn = open_writer(&path).map_err(StoreError::WriterStart)?;
        let (jobs, rx) = mpsc::channel(QUEUE);
        // The checkpointer stops when the writer does (its sender is dropped).
        let (writer_alive, stopped) = std::sync::mpsc::channel::<()>();
        let checkpoint_path = path.clone();
        std::thread::Builder::new()
            .name("haven-writer".into())
            .spawn(move || run(path, conn, rx, writer_alive))?;
        std::thread::Builder::new()
            .name("haven-checkpoint".into())
            .spawn(move || checkpoint(checkpoint_path, stopped))?;
        Ok(Self { jobs })
    }

    /// Stores one message; returns once it is committed.
    pub async fn insert(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::Insert(message, reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
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
/// the writer) until the writer thread ends.
fn checkpoint(path: PathBuf, writer_stopped: std::sync::mpsc::Receiver<()>) {
    let mut conn = None;
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

/// The writer thread: runs until every [`MessageWriter`] is dropped.
fn run(
    path: PathBuf,
    conn: rusqlite::Connection,
    mut rx: mpsc::Receiver<Job>,
    _checkpointer: std::sync::mpsc::Sender<()>,
) {
    let mut conn = Some(conn);
    let mut batch = Vec::new();
    let mut replies = Vec::new();
    let mut drained = Vec::new();
    let mut busy = false;
    while let Some(job) = rx.blocking_recv() {
        let mut next = Some(job);
        if busy {
            std::thread::sleep(LINGER);
        }
        // Everything that queued up while the previous batch was committing joins this one;
        // a drain request closes the batch.
        while let Some(job) = next.take() {
            match job {
                Job::Insert(message, reply) => {
                    batch.push(message);
                    replies.push(reply);
                }
                Job::Drain(done) => {
                    drained.push(done);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if batch.is_empty() {
            release(&mut drained);
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
        let size = batch.len();
        let result = match conn.as_mut() {
            Some(conn) => messages::insert_batch(conn, std::mem::take(&mut batch)),
            None => Err(rusqlite::Error::InvalidPath(path.clone())),
        };
        tracing::debug!(
            size,
            micros = started.elapsed().as_micros() as u64,
            "batch committed"
        );
        match result {
            Ok(answers) => {
                for (reply, answer) in replies.drain(..).zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                conn = None; // reopen for the next batch
                tracing::error!(error = %e, size, "message batch failed; nothing of it was stored");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(StoreError::BatchFailed));
                }
            }
        }
        busy = size > 1;
        release(&mut drained);
    }
}
