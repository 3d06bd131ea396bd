//! Several nodes: what Haven shares through Redis when `HAVEN_REDIS_URL` is set. Without it
//! Haven is one process and none of this runs.
//!
//! - Socket.IO fan-out: `realtime` mounts the Redis adapter on the subscriber connection made
//!   here; it carries every emit to the nodes holding the room's sockets.
//! - [`health`]: whether this node can rely on Redis now (the watchdog).
//! - [`Nodes`]: the domain's coordination port (`coordination::Coordinator`) for several
//!   nodes, over [`presence`] (socket counts per user across nodes, grace periods and each
//!   node's lease, kept by atomic Lua scripts) and [`limits`] (the sign-in, registration,
//!   send and typing limits, shared by all nodes).
//!
//! Every time in Redis comes from the Redis server's own clock (`TIME` inside the scripts),
//! never from a node's: leases and windows then mean the same on every node.

mod coordinator;
pub mod health;
pub mod limits;
pub mod presence;

use std::sync::Arc;
use std::time::Duration;

use fred::clients::{Client, SubscriberClient};
use fred::prelude::{Builder, ClientLike, Config, ReconnectPolicy};
use fred::types::config::UnresponsiveConfig;
use fred::types::RespVersion;
use thiserror::Error;

pub use coordinator::Nodes;
pub use health::Health;

/// A command that gets no answer within this time fails (fred would otherwise queue it for
/// as long as Redis is away, and a send would wait with it).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// A connection with a command unanswered this long is closed and opened again.
const UNRESPONSIVE_AFTER: Duration = Duration::from_secs(2);
/// Pub/sub messages fred holds for the fan-out to read (its default is 32).
const PUSHED_BUFFER: usize = 16 * 1024;
/// Time between attempts to reach Redis again, in milliseconds.
const RECONNECT_DELAY_MS: u32 = 500;

/// Redis could not be reached or refused a command.
#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("HAVEN_REDIS_URL is not a Redis URL")]
    Url(#[source] fred::error::Error),
    #[error("Redis is unreachable")]
    Redis(#[from] fred::error::Error),
    #[error("Redis answered something unexpected: {0}")]
    Reply(&'static str),
}

/// This process among the nodes: a random id per start, so a restarted node is a new one
/// and the leftovers of its previous life are swept like those of any dead node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeId(pub Arc<str>);

impl NodeId {
    fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string()[..12].into())
    }
}

impl std::fmt::Display for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Key prefix of everything Haven keeps in Redis (one Redis, or one database number of
/// it, per service).
pub const PREFIX: &str = "haven:";

/// The connections to Redis of this node: one for commands (scripts, limits), one the
/// Socket.IO adapter subscribes and publishes on. Cheap to clone.
#[derive(Clone)]
pub struct Redis {
    commands: Client,
    node: NodeId,
    health: Arc<Health>,
}

/// Both connections, ready; the subscriber goes to the Socket.IO adapter.
pub struct Connected {
    pub redis: Redis,
    pub subscriber: SubscriberClient,
}

/// Connects to `url` (`redis://host:port/db`). Fails when Redis cannot be reached now: a
/// node that starts without it would serve sockets it cannot fan out to.
pub async fn connect(url: &str) -> Result<Connected, ClusterError> {
    let mut config = Config::from_url(url).map_err(ClusterError::Url)?;
    // The adapter's driver needs RESP3 (pushed pub/sub messages on the same connection).
    config.version = RespVersion::RESP3;
    // Until the first connection, a failure is an answer (the node does not start).
    config.fail_fast = true;
    let mut builder = Builder::from_config(config);
    builder
        .set_policy(ReconnectPolicy::new_constant(0, RECONNECT_DELAY_MS))
        .with_performance_config(|performance| {
            performance.default_command_timeout = COMMAND_TIMEOUT;
            // Pushed pub/sub messages wait here for the fan-out; a lagging reader loses
            // them (and its sockets then catch up), so room for bursts.
            performance.broadcast_channel_capacity = PUSHED_BUFFER;
        })
        .with_connection_config(|connection| {
            connection.connection_timeout = COMMAND_TIMEOUT;
            connection.internal_command_timeout = COMMAND_TIMEOUT;
            connection.unresponsive = UnresponsiveConfig {
                max_timeout: Some(UNRESPONSIVE_AFTER),
                interval: Duration::from_millis(500),
            };
        });
    let commands = builder.build()?;
    let subscriber = builder.build_subscriber_client()?;
    let node = NodeId::random();
    let health = Arc::new(Health::new(
        commands.clone(),
        subscriber.clone(),
        node.clone(),
    ));
    commands.init().await?;
    subscriber.init().await?;
    Ok(Connected {
        redis: Redis {
            commands,
            node,
            health,
        },
        subscriber,
    })
}

impl Redis {
    /// This node's id.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Whether Redis can be relied on now, and the lease.
    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    /// The command connection.
    pub(crate) fn commands(&self) -> &Client {
        &self.commands
    }
}

/// The Lua prologue every script starts with: `now`, the Redis server's time in
/// milliseconds.
const NOW: &str = "local t = redis.call('TIME')\n\
                   local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n";

/// A script with the [`NOW`] prologue, loaded by its hash at first use.
pub(crate) fn script(body: &str) -> fred::types::scripts::Script {
    fred::types::scripts::Script::from_lua(format!("{NOW}{body}"))
}
