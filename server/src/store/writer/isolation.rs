//! A failed batch, split until only the messages the database refuses fail (the writer's
//! module documentation says why).

use std::ops::Range;

use crate::store::messages::{Inserted, NewMessage};
use crate::store::StoreError;

/// Why one transaction over a run of messages failed.
#[derive(Debug)]
pub struct Failure {
    /// The error with its causes, for the log (never a body: databases' messages name
    /// constraints and encodings, not values).
    pub cause: String,
    /// The database itself is unusable (connection, I/O, timeout, disk): no smaller run
    /// would fare better.
    pub database_down: bool,
}

/// Finds the messages of a failed batch that the database refuses, so that only they fail
/// (see the module's documentation). Runs are tried in batch order, so ids keep the order
/// in which senders were queued. Storing `n` messages with `k` refused ones takes at most
/// about `2k·log2(n)` transactions; a batch that commits takes one.
pub struct Isolation<'a> {
    messages: &'a [NewMessage],
    /// Runs still to try; the next is on top.
    pending: Vec<Range<usize>>,
    answers: Vec<Option<Result<Inserted, StoreError>>>,
}

impl<'a> Isolation<'a> {
    /// Stores `messages` through `attempt` (one transaction over the run it is given) and
    /// answers each message, in order.
    pub fn run<F>(messages: &'a [NewMessage], mut attempt: F) -> Vec<Result<Inserted, StoreError>>
    where
        F: FnMut(&[NewMessage]) -> Result<Vec<Inserted>, Failure>,
    {
        let mut isolation = Self::new(messages);
        while let Some(run) = isolation.next() {
            let outcome = attempt(&messages[run.clone()]);
            isolation.record(run, outcome);
        }
        isolation.finish()
    }

    /// The search over `messages`, starting with all of them in one run.
    pub fn new(messages: &'a [NewMessage]) -> Self {
        let mut answers = Vec::with_capacity(messages.len());
        answers.resize_with(messages.len(), || None);
        let mut pending = Vec::with_capacity(16);
        pending.push(0..messages.len());
        Self {
            messages,
            pending,
            answers,
        }
    }

    /// The next run of messages to store in one transaction.
    pub fn next(&mut self) -> Option<Range<usize>> {
        self.pending.pop()
    }

    /// Takes the outcome of storing `run`.
    pub fn record(&mut self, run: Range<usize>, outcome: Result<Vec<Inserted>, Failure>) {
        match outcome {
            Ok(inserted) => {
                for (i, answer) in run.zip(inserted) {
                    self.answers[i] = Some(Ok(answer));
                }
            }
            Err(failure) if failure.database_down => {
                tracing::error!(
                    error = %failure.cause,
                    unstored = self.answers.iter().filter(|a| a.is_none()).count(),
                    "message batch failed: the database is unusable; nothing more of it was stored"
                );
                self.pending.clear();
                for answer in self.answers.iter_mut().filter(|a| a.is_none()) {
                    *answer = Some(Err(StoreError::BatchFailed));
                }
            }
            Err(failure) if run.len() == 1 => {
                tracing::error!(
                    error = %failure.cause,
                    conversation = %self.messages[run.start].conversation_id,
                    "the database refused one message; the rest of its batch is stored"
                );
                self.answers[run.start] = Some(Err(StoreError::MessageRefused));
            }
            Err(failure) => {
                tracing::warn!(
                    error = %failure.cause,
                    size = run.len(),
                    "message batch failed; storing its halves apart"
                );
                let middle = run.start + run.len() / 2;
                // The first half on top: it is stored first.
                self.pending.push(middle..run.end);
                self.pending.push(run.start..middle);
            }
        }
    }

    /// Every message's answer, in order.
    pub fn finish(self) -> Vec<Result<Inserted, StoreError>> {
        self.answers
            .into_iter()
            .map(|a| a.unwrap_or(Err(StoreError::BatchFailed)))
            .collect()
    }
}
