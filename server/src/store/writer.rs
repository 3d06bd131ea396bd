//! Group commit for messages: one task owns message inserts and commits whatever has queued
//! up while the previous commit ran, in one transaction. Under light load a batch is one
//! message (no added latency); under heavy load the cost of a commit is shared by many.

use tokio::sync::{mpsc, oneshot};

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
    let mut batch = Vec::new();
    let mut replies = Vec::new();
    while let Some((message, reply)) = rx.recv().await {
        batch.push(message);
        replies.push(reply);
        while batch.len() < messages::MAX_BATCH {
            match rx.try_recv() {
                Ok((message, reply)) => {
                    batch.push(message);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        match messages::insert_batch(&db, &batch).await {
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
