//! Presence kept in Redis for all nodes: how many sockets each user has on each node, who
//! counts as online, whose grace period runs until when, and each node's lease. Every change
//! is one Lua script, so two nodes never interleave halfway through one.
//!
//! Keys (after [`super::PREFIX`]):
//! - `presence:sockets:<user>`: hash, node → that user's sockets on that node;
//! - `presence:online`: hash, user → `s` or `p`, for everyone online or within grace;
//! - `presence:online:p`: set, the psychiatrists of `presence:online` (what a student sees);
//! - `presence:grace`: sorted set, `<role>:<user>` → when their grace ends (ms);
//! - `presence:node:<node>`: set, the `<role>:<user>` with sockets on that node;
//! - `nodes`: sorted set, node → when its lease ends (ms).
//!
//! A user goes offline exactly once: the script that finds their grace over (or their last
//! node dead) removes them from `presence:online`, and only the node whose script did so is
//! told, and announces it.

use std::time::Duration;

use app::protocol::{Role, Timestamp, UserId};
use fred::prelude::{HashesInterface, SetsInterface};
use fred::types::scripts::Script;
use std::sync::LazyLock;

use super::{script, ClusterError, Redis, PREFIX};

const ONLINE: &str = "haven:presence:online";
const ONLINE_PSYCHIATRISTS: &str = "haven:presence:online:p";
const GRACE: &str = "haven:presence:grace";
const NODES: &str = "haven:nodes";

fn sockets_key(user: UserId) -> String {
    format!("{PREFIX}presence:sockets:{user}")
}

fn node_key(redis: &Redis) -> String {
    format!("{PREFIX}presence:node:{}", redis.node)
}

/// `s:<id>` or `p:<id>`: a user with their role, as the scripts keep them.
fn member(user: UserId, role: Role) -> String {
    format!("{}:{user}", role_letter(role))
}

fn role_letter(role: Role) -> &'static str {
    match role {
        Role::Student => "s",
        Role::Psychiatrist => "p",
    }
}

fn parse_member(member: &str) -> Option<(UserId, Role)> {
    let (role, id) = member.split_once(':')?;
    let role = match role {
        "s" => Role::Student,
        "p" => Role::Psychiatrist,
        _ => return None,
    };
    Some((UserId(id.parse().ok()?), role))
}

static CONNECT: LazyLock<Script> = LazyLock::new(|| {
    script(
        "redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
         redis.call('SADD', KEYS[2], ARGV[2])
         redis.call('ZREM', KEYS[3], ARGV[2])
         if ARGV[4] == 'p' then redis.call('SADD', KEYS[5], ARGV[3]) end
         return redis.call('HSETNX', KEYS[4], ARGV[3], ARGV[4])",
    )
});

/// Counts a socket of `user` on this node; `true` if they just came online (were neither
/// online nor within grace on any node).
pub async fn connect(redis: &Redis, user: UserId, role: Role) -> Result<bool, ClusterError> {
    let keys = vec![
        sockets_key(user),
        node_key(redis),
        GRACE.to_owned(),
        ONLINE.to_owned(),
        ONLINE_PSYCHIATRISTS.to_owned(),
    ];
    let args = vec![
        redis.node.to_string(),
        member(user, role),
        user.to_string(),
        role_letter(role).to_owned(),
    ];
    let new: i64 = CONNECT
        .evalsha_with_reload(redis.commands(), keys, args)
        .await?;
    Ok(new == 1)
}

static DISCONNECT: LazyLock<Script> = LazyLock::new(|| {
    script(
        "local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
         if left <= 0 then
           redis.call('HDEL', KEYS[1], ARGV[1])
           redis.call('SREM', KEYS[2], ARGV[2])
         end
         if redis.call('HLEN', KEYS[1]) == 0 then
           redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
         end
         return 0",
    )
});

/// Counts a closed socket of `user` on this node. If it was their last on any node, their
/// grace period starts: [`due`] reports them offline once it is over.
pub async fn disconnect(
    redis: &Redis,
    user: UserId,
    role: Role,
    grace: Duration,
) -> Result<(), ClusterError> {
    let keys = vec![sockets_key(user), node_key(redis), GRACE.to_owned()];
    let args = vec![
        redis.node.to_string(),
        member(user, role),
        grace.as_millis().to_string(),
    ];
    let _: i64 = DISCONNECT
        .evalsha_with_reload(redis.commands(), keys, args)
        .await?;
    Ok(())
}

static SYNC: LazyLock<Script> = LazyLock::new(|| {
    script(
        "local node, grace, prefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
         local here = {}
         for i = 4, #ARGV, 2 do here[ARGV[i]] = ARGV[i + 1] end
         for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
           if not here[m] then
             local key = prefix .. 'presence:sockets:' .. string.sub(m, 3)
             redis.call('HDEL', key, node)
             if redis.call('HLEN', key) == 0 then redis.call('ZADD', KEYS[2], now + grace, m) end
           end
         end
         redis.call('DEL', KEYS[1])
         local came = {}
         for m, count in pairs(here) do
           local id, role = string.sub(m, 3), string.sub(m, 1, 1)
           redis.call('HSET', prefix .. 'presence:sockets:' .. id, node, count)
           redis.call('SADD', KEYS[1], m)
           redis.call('ZREM', KEYS[2], m)
           if role == 'p' then redis.call('SADD', KEYS[4], id) end
           if redis.call('HSETNX', KEYS[3], id, role) == 1 then table.insert(came, m) end
         end
         return came",
    )
});

/// Makes Redis hold exactly `here` (user, role, sockets) for this node, after Redis lost
/// track of it (a failed call, a lease that ran out); answers who came online by it.
pub async fn sync(
    redis: &Redis,
    here: &[(UserId, Role, u32)],
    grace: Duration,
) -> Result<Vec<(UserId, Role)>, ClusterError> {
    let keys = vec![
        node_key(redis),
        GRACE.to_owned(),
        ONLINE.to_owned(),
        ONLINE_PSYCHIATRISTS.to_owned(),
    ];
    let mut args = vec![
        redis.node.to_string(),
        grace.as_millis().to_string(),
        PREFIX.to_owned(),
    ];
    for (user, role, sockets) in here {
        args.push(member(*user, *role));
        args.push(sockets.to_string());
    }
    let came: Vec<String> = SYNC
        .evalsha_with_reload(redis.commands(), keys, args)
        .await?;
    Ok(came.iter().filter_map(|m| parse_member(m)).collect())
}

static RENEW: LazyLock<Script> = LazyLock::new(|| {
    script(
        "local had = redis.call('ZSCORE', KEYS[1], ARGV[1])
         redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
         if had then return 1 end
         return 0",
    )
});

/// Extends this node's lease by `lease` from now (Redis' now); `false` if it had none (a
/// first start, or the other nodes took this one for dead and swept its sockets): then
/// [`sync`] must tell Redis again what this node holds.
pub async fn renew_lease(redis: &Redis, lease: Duration) -> Result<bool, ClusterError> {
    let args = vec![redis.node.to_string(), lease.as_millis().to_string()];
    let had: i64 = RENEW
        .evalsha_with_reload(redis.commands(), vec![NODES.to_owned()], args)
        .await?;
    Ok(had == 1)
}

static RELEASE: LazyLock<Script> =
    LazyLock::new(|| script("return redis.call('ZREM', KEYS[1], ARGV[1])"));

/// At shutdown, after this node's sockets are closed (and their grace started): gives up
/// the lease.
pub async fn release(redis: &Redis, grace: Duration) -> Result<(), ClusterError> {
    sync(redis, &[], grace).await?;
    let _: i64 = RELEASE
        .evalsha_with_reload(
            redis.commands(),
            vec![NODES.to_owned()],
            vec![redis.node.to_string()],
        )
        .await?;
    Ok(())
}

static DUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        "local prefix = ARGV[1]
         local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES')
         for i = 1, #dead, 2 do
           local node, died = dead[i], dead[i + 1]
           redis.call('ZREM', KEYS[1], node)
           local held = prefix .. 'presence:node:' .. node
           for _, m in ipairs(redis.call('SMEMBERS', held)) do
             local key = prefix .. 'presence:sockets:' .. string.sub(m, 3)
             redis.call('HDEL', key, node)
             if redis.call('HLEN', key) == 0 then redis.call('ZADD', KEYS[2], died, m) end
           end
           redis.call('DEL', held)
         end
         local gone = {}
         local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES')
         for i = 1, #due, 2 do
           local m = due[i]
           local id = string.sub(m, 3)
           redis.call('ZREM', KEYS[2], m)
           if redis.call('HLEN', prefix .. 'presence:sockets:' .. id) == 0
              and redis.call('HDEL', KEYS[3], id) == 1 then
             redis.call('SREM', KEYS[4], id)
             table.insert(gone, m)
             table.insert(gone, due[i + 1])
           end
         end
         return gone",
    )
});

/// Who went offline now, for this node alone to announce: users whose grace is over, and
/// users whose only sockets were on a node whose lease ran out (that node is swept). Each
/// comes with when they were last seen: their grace's end, or their node's lease's end.
pub async fn due(redis: &Redis) -> Result<Vec<(UserId, Role, Timestamp)>, ClusterError> {
    let keys = vec![
        NODES.to_owned(),
        GRACE.to_owned(),
        ONLINE.to_owned(),
        ONLINE_PSYCHIATRISTS.to_owned(),
    ];
    let gone: Vec<String> = DUE
        .evalsha_with_reload(redis.commands(), keys, vec![PREFIX.to_owned()])
        .await?;
    gone.chunks_exact(2)
        .map(|pair| {
            let (user, role) = parse_member(&pair[0]).ok_or(ClusterError::Reply("member"))?;
            let at = pair[1]
                .parse::<f64>()
                .map_err(|_| ClusterError::Reply("score"))?;
            Ok((user, role, Timestamp::from_millis(at as i64)))
        })
        .collect()
}

/// Which of `users` count as online now (connected on some node, or within grace).
pub async fn online_among(redis: &Redis, users: &[UserId]) -> Result<Vec<bool>, ClusterError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    if let [user] = users {
        let found: Option<String> = redis.commands().hget(ONLINE, user.to_string()).await?;
        return Ok(vec![found.is_some()]);
    }
    let fields: Vec<String> = users.iter().map(ToString::to_string).collect();
    let found: Vec<Option<String>> = redis.commands().hmget(ONLINE, fields).await?;
    Ok(found.into_iter().map(|role| role.is_some()).collect())
}

/// Every psychiatrist online now.
pub async fn online_psychiatrists(redis: &Redis) -> Result<Vec<UserId>, ClusterError> {
    let ids: Vec<String> = redis.commands().smembers(ONLINE_PSYCHIATRISTS).await?;
    Ok(ids
        .iter()
        .filter_map(|id| id.parse().ok().map(UserId))
        .collect())
}
