//! The rate limits, kept in Redis so that a second node is not a second quota: the same
//! rules as the in-memory versions (`coordination::{Buckets, Throttle}`), each decision one
//! Lua script on the Redis server's clock.
//!
//! Keys (after [`super::PREFIX`]), each expiring once it no longer limits anything:
//! - `rate:<kind>:<user>`: a token bucket (hash: tokens, at);
//! - `signin:name:<username>`: failures in a row and the latest (hash);
//! - `signin:addr:<address>`, `register:addr:<address>`: sliding windows (sorted sets of
//!   attempts by time).

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Duration;

use app::protocol::UserId;
use fred::types::scripts::Script;

use super::{script, ClusterError, Redis, PREFIX};
use crate::coordination::{SendRate, SignInReservation, ThrottleLimits};

static TAKE_TOKEN: LazyLock<Script> = LazyLock::new(|| {
    script(
        "local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
         local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
         local tokens = tonumber(state[1]) or burst
         local at = tonumber(state[2]) or now
         tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
         local taken = 0
         if tokens >= 1 then tokens = tokens - 1; taken = 1 end
         redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
         redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
         return taken",
    )
});

/// Takes one token from `user`'s bucket of `kind` (`send`, `typing`); `false` if it is
/// empty.
pub async fn take_token(
    redis: &Redis,
    kind: &str,
    user: UserId,
    rate: SendRate,
) -> Result<bool, ClusterError> {
    let SendRate { per_second, burst } = rate;
    let key = format!("{PREFIX}rate:{kind}:{user}");
    let taken: i64 = TAKE_TOKEN
        .evalsha_with_reload(
            redis.commands(),
            vec![key],
            vec![per_second.to_string(), burst.to_string()],
        )
        .await?;
    Ok(taken == 1)
}

/// The wait in a window that is full: when enough attempts have aged out. Lua shared by the
/// two scripts below; sets `wait` (ms, 0 if there is room) for window `KEYS[k]`.
const WINDOW_WAIT: &str = "
local function window_wait(key, limit, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, n - limit, n - limit, 'WITHSCORES')
  return math.max(0, window - (now - tonumber(oldest[2])))
end
";

static RESERVE_SIGN_IN: LazyLock<Script> = LazyLock::new(|| {
    script(&format!(
        "{WINDOW_WAIT}
         local per_name, max_delay = tonumber(ARGV[1]), tonumber(ARGV[2])
         local window, per_address = tonumber(ARGV[3]), tonumber(ARGV[4])
         local b = redis.call('HMGET', KEYS[1], 'failures', 'last')
         local failures, last = tonumber(b[1]) or 0, tonumber(b[2])
         if last == nil or now - last >= window then failures = 0; last = nil end
         local wait = 0
         if last and failures >= per_name then
           local delay = math.min(2 ^ math.min(failures - per_name, 30) * 1000, max_delay)
           wait = math.max(0, last + delay - now)
         end
         wait = math.max(wait, window_wait(KEYS[2], per_address, window))
         if wait > 0 then return {{wait, 0}} end
         redis.call('ZADD', KEYS[2], now, ARGV[5])
         redis.call('PEXPIRE', KEYS[2], window)
         redis.call('HSET', KEYS[1], 'failures', failures + 1, 'last', now)
         redis.call('PEXPIRE', KEYS[1], window)
         return {{0, now}}"
    ))
});

static SIGN_IN_SUCCEEDED: LazyLock<Script> = LazyLock::new(|| {
    script(
        "redis.call('DEL', KEYS[1])
         return redis.call('ZREM', KEYS[2], ARGV[1])",
    )
});

static RESERVE_REGISTRATION: LazyLock<Script> = LazyLock::new(|| {
    script(&format!(
        "{WINDOW_WAIT}
         local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
         local wait = window_wait(KEYS[1], limit, window)
         if wait > 0 then return wait end
         redis.call('ZADD', KEYS[1], now, ARGV[3])
         redis.call('PEXPIRE', KEYS[1], window)
         return 0",
    ))
});

fn name_key(username: &str) -> String {
    format!("{PREFIX}signin:name:{username}")
}

fn address_key(address: IpAddr) -> String {
    format!("{PREFIX}signin:addr:{address}")
}

/// Reserves a sign-in attempt (counted as a failure until it succeeds), or answers how long
/// to wait.
pub async fn reserve_sign_in(
    redis: &Redis,
    username: &str,
    address: IpAddr,
    limits: ThrottleLimits,
) -> Result<Result<SignInReservation, Duration>, ClusterError> {
    let attempt = uuid::Uuid::new_v4().simple().to_string();
    let args = vec![
        limits.per_username.to_string(),
        limits.max_delay.as_millis().to_string(),
        limits.window.as_millis().to_string(),
        limits.per_address.to_string(),
        attempt.clone(),
    ];
    let (wait, _at): (i64, i64) = RESERVE_SIGN_IN
        .evalsha_with_reload(
            redis.commands(),
            vec![name_key(username), address_key(address)],
            args,
        )
        .await?;
    Ok(match wait {
        0 => Ok(SignInReservation {
            username: username.to_owned(),
            address,
            at: tokio::time::Instant::now(),
            shared: Some(attempt),
        }),
        ms => Err(Duration::from_millis(ms.unsigned_abs())),
    })
}

/// The reserved attempt succeeded: the username starts afresh and the address is not
/// charged for it.
pub async fn sign_in_succeeded(
    redis: &Redis,
    reservation: &SignInReservation,
) -> Result<(), ClusterError> {
    let attempt = reservation.shared.clone().unwrap_or_default();
    let _: i64 = SIGN_IN_SUCCEEDED
        .evalsha_with_reload(
            redis.commands(),
            vec![
                name_key(&reservation.username),
                address_key(reservation.address),
            ],
            vec![attempt],
        )
        .await?;
    Ok(())
}

/// Counts a registration from `address` within `window`, or answers how long to wait.
pub async fn reserve_registration(
    redis: &Redis,
    address: IpAddr,
    limit: usize,
    window: Duration,
) -> Result<Result<(), Duration>, ClusterError> {
    let args = vec![
        limit.to_string(),
        window.as_millis().to_string(),
        uuid::Uuid::new_v4().simple().to_string(),
    ];
    let wait: i64 = RESERVE_REGISTRATION
        .evalsha_with_reload(
            redis.commands(),
            vec![format!("{PREFIX}register:addr:{address}")],
            args,
        )
        .await?;
    Ok(match wait {
        0 => Ok(()),
        ms => Err(Duration::from_millis(ms.unsigned_abs())),
    })
}
