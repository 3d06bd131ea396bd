//! Group commit for messages: one task owns message inserts and commits whatever has queued
//! up while the previous commit ran, in one transaction. Under light load a batch is one
//! message (no added latency); under heavy load the cost of a commit is shared by many.

use tokio::sync::{mpsc, oneshot};

use sqlx::SqliteConnection;

use super::messages::{self, Inserted, NewMessage};
use super::{Db, StoreError};

type Reply = oneshot::Sender<Result<Inserted, StoreError>>;

/// Handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub struct MessageWriter {
    jobs: mpsc::Sender<(NewMessage, Reply)>,
}

/// Queued inserts beyond this wait for room (back-pressure on senders).
const QUEUE: usize = 8192;

impl MessageWriter {
    /// Starts the writer task on `db`.
    pub fn spawn(db: Db) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, rx));
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

async fn run(db: Db, mut rx: mpsc::Receiver<(NewMessage, Reply)>) {
    // One connection of its own: its page cache stays warm (a pooled connection's cache is
    // invalidated by writes made through the others).
    let mut conn: Option<SqliteConnection> = None;
    let mut batch = Vec::new();
    let mut replies = Vec::new();
    while let Some((message, reply)) = rx.recv().await {
        batch.push(message);
        replies.push(reply);
        // Let the socket tasks that are ready run first, so their messages join this batch.
        tokio::task::yield_now().await;
        while batch.len() < messages::MAX_BATCH {
            match rx.try_recv() {
                Ok((message, reply)) => {
                    batch.push(message);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        if conn.is_none() {
            conn = db.acquire().await.map(|c| c.detach()).ok();
        }
        let result = match conn.as_mut() {
            Some(conn) => messages::insert_batch(conn, &batch).await,
            None => Err(StoreError::Corrupt("no database connection".into())),
        };
        if result.is_err() {
            conn = None; // reconnect for the next batch
        }
        match result {
            Ok(answers) => {
                for (reply, answer) in replies.drain(..).zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, size = batch.len(), "message batch failed; nothing of it was stored");
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(StoreError::Corrupt("batch failed".into())));
                }
            }
        }
        batch.clear();
    }
}
