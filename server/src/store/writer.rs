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

/// Handle to the writer thread; cheap to clone.
#[derive(Debug, Clone)]
pub struct MessageWriter {
    jobs: mpsc::Sender<(NewMessage, Reply)>,
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
    /// Starts the writer thread on the database file behind `db`.
    pub fn spawn(db: &Db) -> Self {
        let path = db.connect_options().get_filename().to_path_buf();
        let (jobs, rx) = mpsc::channel(QUEUE);
        // The checkpointer stops when the writer does (its sender is dropped).
        let (writer_alive, stopped) = std::sync::mpsc::channel::<()>();
        let checkpoint_path = path.clone();
        let started = std::thread::Builder::new()
            .name("haven-writer".into())
            .spawn(move || run(path, rx, writer_alive))
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("haven-checkpoint".into())
                    .spawn(move || checkpoint(checkpoint_path, stopped))
            });
        if let Err(e) = started {
            // Every insert then answers "writer stopped": the server stays up, sends fail.
            tracing::error!(error = %e, "cannot start the message writer threads");
        }
        Self { jobs }
    }

    /// Stores one message; returns once it is committed.
    pub async fn insert(&self, message: NewMessage) -> Result<Inserted, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((message, reply))
            .await
            .map_err(|_| StoreError::Corrupt("message writer stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("message writer dropped a reply".into()))?
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

/// The writer thread: runs until every [`MessageWriter`] is dropped.
fn run(
    path: PathBuf,
    mut rx: mpsc::Receiver<(NewMessage, Reply)>,
    _checkpointer: std::sync::mpsc::Sender<()>,
) {
    let mut conn: Option<rusqlite::Connection> = None;
    let mut batch = Vec::new();
    let mut replies = Vec::new();
    let mut busy = false;
    while let Some((message, reply)) = rx.blocking_recv() {
        batch.push(message);
        replies.push(reply);
        if busy {
            std::thread::sleep(LINGER);
        }
        // Everything that queued up while the previous batch was committing joins this one.
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok((message, reply)) => {
                    batch.push(message);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = open(&path)
                .and_then(|c| {
                    // The checkpoint thread does this, off the commit path.
                    c.pragma_update(None, "wal_autocheckpoint", 0)?;
                    Ok(c)
                })
                .inspect_err(
                    |e| tracing::error!(error = %e, "message writer cannot open the database"),
                )
                .ok();
        }
        let started = std::time::Instant::now();
        let result = match conn.as_mut() {
            Some(conn) => messages::insert_batch(conn, &batch).map_err(|e| e.to_string()),
            None => Err("no database connection".to_owned()),
        };
        tracing::debug!(
            size = batch.len(),
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
                tracing::error!(error = %e, size = batch.len(), "message batch failed; nothing of it was stored");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(StoreError::Corrupt("batch failed".into())));
                }
            }
        }
        busy = batch.len() > 1;
        batch.clear();
    }
}
