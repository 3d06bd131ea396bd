//! The Redis adapter's driver: how emits travel between nodes. The same as
//! socketioxide-redis' own fred driver (sharded pub/sub on fred's subscriber client), except
//! that it never loses an emit silently. When this node falls behind on what Redis pushes
//! (fred's channel lagged, a namespace's buffer full), the packets dropped are gone from the
//! stream, so the node's sockets are asked to reconnect and catch up from the database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use fred::clients::SubscriberClient;
use fred::interfaces::{EventInterface, PubsubInterface};
use fred::types::Message;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::{broadcast, mpsc};

use crate::cluster::Health;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// Pub/sub through fred's subscriber client. Cheap to clone (the adapter clones it per
/// namespace).
#[derive(Clone)]
pub struct FanoutDriver {
    handlers: Handlers,
    conn: SubscriberClient,
}

impl FanoutDriver {
    /// Drives the adapter over `conn` (already connected); a dropped packet makes `health`
    /// resync this node's sockets.
    pub fn new(conn: SubscriberClient, health: Arc<Health>) -> Self {
        let handlers = Handlers::default();
        tokio::spawn(pipe(conn.message_rx(), handlers.clone(), health));
        Self { handlers, conn }
    }
}

/// Hands each pushed message to the stream of its channel.
async fn pipe(mut rx: broadcast::Receiver<Message>, handlers: Handlers, health: Arc<Health>) {
    loop {
        match rx.recv().await {
            Ok(message) => {
                let channel = message.channel.to_string();
                let Some(data) = message.value.into_owned_bytes() else {
                    continue;
                };
                let sender = handlers
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&channel)
                    .cloned();
                if let Some(sender) = sender {
                    if sender.try_send((channel, data)).is_err() {
                        tracing::warn!("fan-out buffer full: this node's sockets catch up");
                        health.request_resync();
                    }
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "fan-out fell behind Redis: this node's sockets catch up"
                );
                health.request_resync();
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

impl Driver for FanoutDriver {
    type Error = fred::error::Error;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.conn.spublish::<u16, _, _>(chan, val).await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        self.conn.ssubscribe(chan.as_str()).await?;
        let (tx, rx) = mpsc::channel(size);
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chan, tx);
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        self.conn.sunsubscribe(chan).await
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) = self.conn.pubsub_shardnumsub(chan).await?;
        Ok(count)
    }
}
