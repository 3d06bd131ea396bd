//! Socket.IO: who may connect, and the rooms a socket joins. Messaging events build on this.
//!
//! Every socket of user 42 joins room `user:42`; emits to a user go through that room (never
//! through a process-local list of sockets), which is what a Redis adapter later spreads
//! across nodes.

mod handshake;

use socketioxide::extract::{Extension, SocketRef};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;
use tower_sessions_sqlx_store::SqliteStore;

use crate::auth::session::SessionUser;

/// What socket handlers share.
#[derive(Clone)]
pub struct Realtime {
    pub sessions: SqliteStore,
    /// Origins besides the site's own that may open sockets.
    pub allowed_origins: Vec<String>,
}

/// The room that reaches every socket of one user.
pub fn user_room(user: &SessionUser) -> String {
    format!("user:{}", user.id)
}

/// Builds the Socket.IO layer to mount on the router.
pub fn layer(realtime: Realtime) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder().with_state(realtime).build_layer();
    io.ns("/", on_connect.with(handshake::authenticate));
    (layer, io)
}

async fn on_connect(socket: SocketRef, Extension(user): Extension<SessionUser>) {
    socket.join(user_room(&user));
    tracing::debug!(user = %user.id, socket = %socket.id, "socket connected");
}
