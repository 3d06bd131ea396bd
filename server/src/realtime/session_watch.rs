//! A socket lives no longer than the session it was opened with. Sign-out closes a
//! session's sockets at once; this watch closes those whose session ended otherwise (idle
//! expiry, absolute lifetime, deleted from the store) within one check interval.

use std::collections::HashMap;
use std::time::Duration;

use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::SocketIo;

use crate::auth::session::{self, SocketSession};
use crate::store::Db;

/// Checks every `every` until the server stops.
pub async fn run<A: Adapter>(io: SocketIo<A>, db: Db, every: Duration, absolute: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // After shutdown closed the namespace there is nothing left to watch.
        let Some(sockets) = io.of("/").map(|ns| ns.sockets()) else {
            return;
        };
        check(sockets, &db, absolute).await;
    }
}

/// One pass: one query for all sessions with sockets on this node.
async fn check<A: Adapter>(sockets: Vec<SocketRef<A>>, db: &Db, absolute: Duration) {
    let mut by_session: HashMap<String, Vec<SocketRef<A>>> = HashMap::new();
    let mut ended = Vec::new();
    for socket in sockets {
        let Some(session) = socket.extensions.get::<SocketSession>() else {
            continue;
        };
        if session::outlived(session.signed_in_at, absolute) {
            ended.push(socket);
        } else {
            by_session
                .entry(session.id.to_string())
                .or_default()
                .push(socket);
        }
    }
    let ids: Vec<String> = by_session.keys().cloned().collect();
    match session::still_valid(db, &ids).await {
        Ok(valid) => ended.extend(
            by_session
                .into_iter()
                .filter(|(id, _)| !valid.contains(id))
                .flat_map(|(_, sockets)| sockets),
        ),
        Err(e) => tracing::error!(error = %crate::report::chain(&e), "session check failed"),
    }
    if !ended.is_empty() {
        tracing::info!(sockets = ended.len(), "closing sockets of ended sessions");
    }
    for socket in ended {
        let _ = socket.disconnect();
    }
}
