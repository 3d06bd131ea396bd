//! Haven patch 6: a socket's queue of outgoing packets, with the parts of
//! `tokio::sync::mpsc`'s bounded channel that engineioxide uses (one receiver at a time,
//! `try_send`, `send`, `try_reserve`, `close`, `closed`), and the slot of the latest
//! volatile packet, which engineioxide kept in a `watch` channel of its own (≈ 400 bytes a
//! socket): it is received once the queue is empty, and a newer one replaces it.
//!
//! tokio's channel allocates a block of 32 slots when it is made and keeps it: with a
//! `PacketBuf` per slot that is ≈ 2 KB a socket (heaptrack, idle sockets), most of it never
//! used by a socket that stays quiet. This queue is a `VecDeque` behind a mutex: it takes
//! memory when packets wait, gives back all but a few slots once they are written, and the
//! whole structure is one allocation of ≈ 150 bytes.

use std::{
    collections::VecDeque,
    fmt,
    future::poll_fn,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll},
};

use futures_util::task::AtomicWaker;
use tokio::sync::{
    Notify,
    mpsc::error::{SendError, TryRecvError, TrySendError},
};

/// Slots an empty queue keeps (a few packets at a time is what a quiet socket sends).
const KEPT_SLOTS: usize = 4;

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    /// The receiver's task, woken when a packet arrives or the queue closes.
    rx_waker: AtomicWaker,
    /// Senders waiting for room ([`Sender::send`]) and for the close ([`Sender::closed`]).
    changed: Notify,
}

struct State<T> {
    queue: VecDeque<T>,
    /// Room promised to [`Permit`]s not yet used.
    reserved: usize,
    /// The latest volatile item: outside the bound, replaced by the next one.
    volatile: Option<T>,
    closed: bool,
}

/// A bounded queue of `capacity` items: its sending and receiving halves.
pub(crate) fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            reserved: 0,
            volatile: None,
            closed: false,
        }),
        capacity,
        rx_waker: AtomicWaker::new(),
        changed: Notify::new(),
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Shared<T> {
    fn state(&self) -> MutexGuard<'_, State<T>> {
        // A panic while holding the lock leaves a queue that is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut state = self.state();
        let was_full = state.queue.len() + state.reserved >= self.capacity;
        match state.queue.pop_front() {
            Some(item) => {
                if state.queue.is_empty() && state.queue.capacity() > KEPT_SLOTS {
                    state.queue = VecDeque::new();
                }
                drop(state);
                if was_full {
                    self.changed.notify_waiters();
                }
                Ok(item)
            }
            None => match state.volatile.take() {
                Some(item) => Ok(item),
                None if state.closed => Err(TryRecvError::Disconnected),
                None => Err(TryRecvError::Empty),
            },
        }
    }
}

/// The sending half: cheap to clone.
pub(crate) struct Sender<T>(Arc<Shared<T>>);

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Sender<T> {
    /// Queues `item` if there is room and the queue is open.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let mut state = self.0.state();
        if state.closed {
            return Err(TrySendError::Closed(item));
        }
        if state.queue.len() + state.reserved >= self.0.capacity {
            return Err(TrySendError::Full(item));
        }
        state.queue.push_back(item);
        drop(state);
        self.0.rx_waker.wake();
        Ok(())
    }

    /// Queues `item`, waiting for room; fails only once the queue is closed.
    pub async fn send(&self, mut item: T) -> Result<(), SendError<T>> {
        loop {
            let notified = self.0.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Closed(back)) => return Err(SendError(back)),
                Err(TrySendError::Full(back)) => item = back,
            }
            notified.await;
        }
    }

    /// Promises room for one item, if there is room and the queue is open.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        let mut state = self.0.state();
        if state.closed {
            return Err(TrySendError::Closed(()));
        }
        if state.queue.len() + state.reserved >= self.0.capacity {
            return Err(TrySendError::Full(()));
        }
        state.reserved += 1;
        Ok(Permit { shared: &self.0 })
    }

    /// Puts `item` in the volatile slot (replacing one not yet received), unless the queue
    /// is closed.
    pub fn send_volatile(&self, item: T) -> bool {
        let mut state = self.0.state();
        if state.closed {
            return false;
        }
        let replaced = state.volatile.replace(item);
        drop(state);
        drop(replaced);
        self.0.rx_waker.wake();
        true
    }

    /// Whether the receiver closed the queue.
    pub fn is_closed(&self) -> bool {
        self.0.state().closed
    }

    /// Resolves once the receiver closed the queue.
    pub async fn closed(&self) {
        loop {
            let notified = self.0.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.0.state();
        f.debug_struct("Sender")
            .field("queued", &state.queue.len())
            .field("reserved", &state.reserved)
            .field("closed", &state.closed)
            .finish()
    }
}

/// Room for one item, promised by [`Sender::try_reserve`]; given back if unused.
pub(crate) struct Permit<'a, T> {
    shared: &'a Shared<T>,
}

impl<T> Permit<'_, T> {
    /// Queues `item` in the promised room (dropped if the queue closed meanwhile, as
    /// tokio's permit drops it with the channel).
    pub fn send(self, item: T) {
        let shared = self.shared;
        // Its drop would give the room back a second time.
        std::mem::forget(self);
        let mut state = shared.state();
        state.reserved -= 1;
        if state.closed {
            drop(state);
            return;
        }
        state.queue.push_back(item);
        drop(state);
        shared.rx_waker.wake();
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        let mut state = self.shared.state();
        let was_full = state.queue.len() + state.reserved >= self.shared.capacity;
        state.reserved -= 1;
        drop(state);
        if was_full {
            self.shared.changed.notify_waiters();
        }
    }
}

/// The receiving half: one transport reads it at a time (engineioxide holds it behind the
/// socket's `internal_rx` lock).
pub(crate) struct Receiver<T>(Arc<Shared<T>>);

impl<T> Receiver<T> {
    /// The next item, or `None` once the queue is closed and empty.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next item if one waits.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.0.try_recv()
    }

    /// Polls for the next item; `None` once the queue is closed and empty.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.0.try_recv() {
            Ok(item) => return Poll::Ready(Some(item)),
            Err(TryRecvError::Disconnected) => return Poll::Ready(None),
            Err(TryRecvError::Empty) => {}
        }
        self.0.rx_waker.register(cx.waker());
        // Again: an item sent between the first look and the registration woke nobody.
        match self.0.try_recv() {
            Ok(item) => Poll::Ready(Some(item)),
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        }
    }

    /// Closes the queue: no more sends; what is queued can still be received.
    pub fn close(&mut self) {
        self.0.state().closed = true;
        self.0.changed.notify_waiters();
        self.0.rx_waker.wake();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_arrive_in_order_and_the_queue_is_bounded() {
        let (tx, mut rx) = channel(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        assert_eq!(rx.recv().await, Some(1));
        tx.try_send(3).unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Ok(3));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[tokio::test]
    async fn a_permit_holds_room_until_used_or_dropped() {
        let (tx, mut rx) = channel(1);
        let permit = tx.try_reserve().unwrap();
        assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
        drop(permit);
        tx.try_reserve().unwrap().send(2);
        assert_eq!(rx.recv().await, Some(2));
        tx.try_send(3).unwrap();
    }

    #[tokio::test]
    async fn close_ends_sends_and_receives_after_the_rest() {
        let (tx, mut rx) = channel(4);
        tx.try_send(1).unwrap();
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.closed().await }
        });
        rx.close();
        waiting.await.unwrap();
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
        assert!(tx.send(2).await.is_err());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_receiver_wakes_for_an_item_and_a_waiting_sender_for_room() {
        let (tx, mut rx) = channel(1);
        let reader = tokio::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            (first, second)
        });
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(reader.await.unwrap(), (Some(1), Some(2)));
    }

    #[tokio::test]
    async fn the_latest_volatile_item_comes_after_the_queue() {
        let (tx, mut rx) = channel(1);
        tx.try_send(1).unwrap();
        assert!(tx.send_volatile(10));
        assert!(tx.send_volatile(11));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(11));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        rx.close();
        assert!(!tx.send_volatile(12));
    }

    #[tokio::test]
    async fn an_emptied_queue_gives_its_memory_back() {
        let (tx, mut rx) = channel(64);
        for i in 0..32 {
            tx.try_send(i).unwrap();
        }
        while rx.try_recv().is_ok() {}
        assert!(rx.0.state().queue.capacity() <= KEPT_SLOTS);
    }
}
