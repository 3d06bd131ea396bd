//! Whether this node can rely on Redis. Redis pub/sub keeps nothing: an emit published while
//! a node's subscription was down never reaches that node's sockets. So a node never lets
//! that pass silently:
//!
//! - Redis unanswered for [`DOWN_AFTER`]: the node is *down*. It asks its sockets to
//!   reconnect (to a healthy node, through the balancer), refuses new ones, and `/healthz`
//!   answers 503 so the balancer stops sending it any.
//! - Redis back (or the subscriber connection opened again, however briefly it was gone, or
//!   a publish failed): the node resubscribes, counts as *up*, and again asks its sockets to
//!   reconnect. A reconnecting client catches up from the database, so whatever the gap
//!   swallowed reaches it then.
//!
//! fred reconnects by itself; this watchdog decides what the gap means for sockets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fred::clients::{Client, SubscriberClient};
use fred::interfaces::EventInterface;
use fred::interfaces::PubsubInterface;
use fred::prelude::ClientLike;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use super::NodeId;

/// How long Redis may stay unanswered before this node counts as down (the bound after
/// which its sockets are asked to go elsewhere).
pub const DOWN_AFTER: Duration = Duration::from_secs(3);
/// How often Redis is pinged.
const CHECK_EVERY: Duration = Duration::from_millis(500);
/// A ping unanswered this long counts as failed.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Redis as this node sees it.
pub struct Health {
    commands: Client,
    subscriber: SubscriberClient,
    node: NodeId,
    up: AtomicBool,
    /// Bumped whenever this node's sockets must reconnect and catch up.
    resync: watch::Sender<u64>,
    /// The subscriber's (re)connections, taken before its first connection (which is the
    /// first one reported, and not a *re*connection).
    reconnects: std::sync::Mutex<Option<broadcast::Receiver<fred::types::config::Server>>>,
}

impl Health {
    /// Call before the subscriber's first connection.
    pub(super) fn new(commands: Client, subscriber: SubscriberClient, node: NodeId) -> Self {
        let reconnects = subscriber.reconnect_rx();
        Self {
            commands,
            subscriber,
            node,
            up: AtomicBool::new(true),
            resync: watch::Sender::new(0),
            reconnects: std::sync::Mutex::new(Some(reconnects)),
        }
    }

    /// Whether Redis answers now (within [`DOWN_AFTER`]).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Changes each time this node's sockets must reconnect and catch up.
    pub fn resyncs(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
    }

    /// Something may not have reached this node's sockets (a publish failed): they catch
    /// up.
    pub fn request_resync(&self) {
        self.resync.send_modify(|n| *n += 1);
    }

    /// Whether both connections answer a ping in time.
    async fn answers(&self) -> bool {
        let ping = async {
            self.commands.ping::<()>(None).await?;
            self.subscriber.ping::<()>(None).await
        };
        matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Ok(())))
    }

    /// Resubscribes the adapter's channels and counts as up again.
    async fn recover(&self) {
        // The adapter subscribes to sharded channels only (fred's `resubscribe_all` would
        // also send an empty SUBSCRIBE, which Redis refuses).
        let channels: Vec<_> = self
            .subscriber
            .tracked_shard_channels()
            .into_iter()
            .collect();
        if !channels.is_empty() {
            if let Err(e) = self.subscriber.ssubscribe(channels).await {
                tracing::warn!(error = %e, "Redis: resubscribing failed; trying again");
                return;
            }
        }
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!(node = %self.node, "Redis reachable again: sockets reconnect and catch up");
        }
        self.request_resync();
    }

    /// Watches Redis until the server stops.
    pub async fn run(&self) {
        let taken = self
            .reconnects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(mut reconnects) = taken else {
            return;
        };
        let mut first_connection = true;
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing_since: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if self.answers().await {
                        failing_since = None;
                        if !self.is_up() {
                            self.recover().await;
                        }
                    } else {
                        let since = *failing_since.get_or_insert_with(Instant::now);
                        if self.is_up() && since.elapsed() >= DOWN_AFTER {
                            self.up.store(false, Ordering::Relaxed);
                            tracing::error!(
                                node = %self.node,
                                "Redis unreachable: this node's sockets are sent elsewhere"
                            );
                            self.request_resync();
                        }
                    }
                }
                reconnected = reconnects.recv() => {
                    if reconnected.is_err() {
                        // Lagged: reconnections were missed, which is still a reconnection.
                        reconnects = reconnects.resubscribe();
                    } else if std::mem::take(&mut first_connection) {
                        continue;
                    }
                    // The subscription was gone for a while: what was published meanwhile
                    // never arrived here.
                    if self.is_up() {
                        tracing::debug!(node = %self.node, "Redis subscriber connection reopened");
                        self.recover().await;
                    }
                }
            }
        }
    }
}
