//! Which tabs are watching: the question Web Push asks before reminding someone. Every
//! socket of a user is in their `watching:<id>` room from its connection; a tab that says
//! it is hidden (`attention {visible: false}`) leaves the room once it has stayed hidden for
//! the configured while, and comes back the moment it is visible again. The room spans the
//! nodes like every room, so the question is answered for all of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::protocol::events::client;
use app::protocol::{AttentionSignal, Done, UserId};
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::messaging::{Caller, Routes};

/// The room of `user`'s watching tabs.
pub fn watching_room(user: UserId) -> String {
    format!("watching:{user}")
}

/// Counts a socket's `attention` signals: a timer started by "hidden" acts only if nothing
/// came after it.
#[derive(Clone, Default)]
struct Signals(Arc<AtomicU64>);

/// Puts a new socket among its user's watching tabs.
pub fn attach<A: Adapter>(socket: &SocketRef<A>, user: UserId) {
    socket.join(watching_room(user));
    socket.extensions.insert(Signals::default());
}

/// Routes `attention` signals: a hidden tab leaves its watching room after `watching_for`.
pub fn routes<A: Adapter>(routes: &mut Routes<A>, watching_for: Duration) {
    routes.on::<client::Attention, _, _>(move |caller: Caller<A>, signal: AttentionSignal| {
        let Signals(signals) = caller
            .socket
            .extensions
            .get::<Signals>()
            .unwrap_or_default();
        async move {
            let this = signals.fetch_add(1, Ordering::SeqCst) + 1;
            let room = watching_room(caller.user.id);
            if signal.visible {
                caller.socket.join(room);
            } else {
                let socket = caller.socket;
                tokio::spawn(async move {
                    tokio::time::sleep(watching_for).await;
                    if signals.load(Ordering::SeqCst) == this && socket.connected() {
                        socket.leave(room);
                    }
                });
            }
            Ok(Done {})
        }
    });
}
