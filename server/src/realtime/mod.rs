//! Socket.IO, the chat's transport and nothing else: who may connect (the handshake), the
//! rooms a socket joins, typed decoding of the chat events, and delivery of what the chat
//! domain publishes.
//!
//! Every socket of user 42 joins room `user:42`; emits to a user go through that room (never
//! through a process-local list of sockets); with several nodes, socketioxide's Redis
//! adapter carries each emit to the nodes where that room has sockets. Each socket also
//! joins its session's room, so signing out disconnects exactly that session's sockets, on
//! every node.

mod attention;
pub mod delivery;
mod fanout;
mod groups;
mod handshake;
mod messaging;
pub mod session_watch;

use std::sync::Arc;
use std::time::Duration;

use crate::cluster::Health;
use crate::store::sessions::Sessions;
use app::protocol::events::server;
use app::protocol::{Done, HandshakeAuth, Object, UserId};
use axum::extract::{OriginalUri, Request};
use fred::clients::SubscriberClient;
use http::{header, HeaderMap, HeaderName, HeaderValue, Uri};
use socketioxide::adapter::{Adapter, Emitter};
use socketioxide::extract::{Extension, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use tokio::sync::watch;

use crate::auth::session::SocketSession;
use crate::chat::Chat;
use crate::security::origin::PublicOrigin;
use messaging::{Dispatch, Routes};

/// What socket handlers share.
#[derive(Clone)]
pub struct Realtime {
    pub sessions: Sessions,
    pub chat: Arc<Chat>,
    /// The only origin a browser may open sockets from.
    pub origin: PublicOrigin,
    /// Sessions older than this (since sign-in) may not open sockets.
    pub session_absolute: Duration,
    /// With several nodes: whether Redis answers (no sockets are accepted while it does
    /// not).
    pub redis: Option<Arc<Health>>,
    /// How long a hidden tab still counts as watching (Web Push waits that long).
    pub watching_for: Duration,
}

/// The room that reaches every socket of one user.
pub fn user_room(user: UserId) -> String {
    format!("user:{user}")
}

/// Every signed-in student's sockets (they may all see psychiatrists' status).
pub const STUDENTS_ROOM: &str = "students";

/// The rooms that reach every socket of these users.
pub fn user_rooms(users: impl IntoIterator<Item = UserId>) -> Vec<String> {
    users.into_iter().map(user_room).collect()
}

/// The room of one session's sockets (its token is random, not the session id).
pub fn session_room(token: &str) -> String {
    format!("session:{token}")
}

/// Bytes read from a WebSocket at a time (socketioxide's default is 4 KiB).
const WS_READ_BUFFER: usize = 1024;
/// The largest Socket.IO message accepted, on either transport. A 4000-character body is
/// at most 16 KB of UTF-8 (24 KB with JSON escapes); a larger message closes the connection
/// before it is parsed (socketioxide's defaults: 64 MiB over WebSocket, 100 kB polling).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// An Engine.IO connection that has not joined the namespace (with a valid session) by
/// then is closed.
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// Packets a socket may have queued for sending: a whole catch-up (up to
/// [`crate::chat::REPLAY_LIMIT`] messages, emitted at once) and live traffic beside it.
/// socketioxide's default, 128, made `emit` fail past the 128th replayed message, and the
/// rest of a catch-up was lost to that client. The queue takes memory only as it fills.
const SEND_BUFFER: usize = crate::chat::REPLAY_LIMIT as usize + 1024;

/// The adapter of several nodes: socketioxide-redis over Haven's driver ([`fanout`]).
type SharedAdapter = CustomRedisAdapter<Emitter, fanout::FanoutDriver>;

/// Packets from other nodes a namespace may have waiting (socketioxide-redis' default is
/// 1024); a fuller buffer drops, which makes this node's sockets catch up.
const FANOUT_BUFFER: usize = 16 * 1024;

/// The Socket.IO layer the router mounts: on one node, or fanning out through Redis.
pub enum Layer {
    Here(SocketIoLayer),
    Shared(SocketIoLayer<SharedAdapter>),
}

/// The Socket.IO server, whichever adapter it runs on. Cheap to clone.
#[derive(Clone)]
pub enum Io {
    /// One node: rooms are this process's.
    Here(SocketIo),
    /// Several nodes: every emit to a room also reaches the room's sockets on the others.
    Shared(SocketIo<SharedAdapter>),
}

/// Runs `$body` with `$io` bound to the `SocketIo` of whichever adapter `$on` holds.
macro_rules! with_io {
    ($on:expr, $io:ident => $body:expr) => {
        match $on {
            $crate::realtime::Io::Here($io) => $body,
            $crate::realtime::Io::Shared($io) => $body,
        }
    };
}
pub(crate) use with_io;

/// The running Socket.IO server, as the router assembly sees it: started, and closed at
/// shutdown.
pub struct Sockets(Io);

impl Sockets {
    /// Closes every socket of this node (their disconnect handlers run).
    pub async fn close(&self) {
        with_io!(&self.0, io => io.close().await)
    }
}

/// Why Socket.IO could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the Socket.IO Redis adapter could not start")]
    Adapter(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Builds the Socket.IO layer (fanning out through `redis` when given), makes `delivery`
/// deliver through it, and starts the watch that closes sockets of ended sessions every
/// `session_check`.
pub async fn start(
    realtime: Realtime,
    delivery: &delivery::SocketDelivery,
    db: crate::store::Db,
    session_check: Duration,
    redis: Option<(Arc<Health>, SubscriberClient)>,
) -> Result<(Layer, Sockets), StartError> {
    let session_absolute = realtime.session_absolute;
    let health = redis.as_ref().map(|(health, _)| health.clone());
    let (layer, io) = match redis {
        None => {
            let (layer, io) = configure(SocketIo::builder(), realtime).build_layer();
            io.ns("/", on_connect.with(handshake::authenticate));
            (Layer::Here(layer), Io::Here(io))
        }
        Some((health, subscriber)) => {
            let adapter = RedisAdapterCtr::new_with_driver(
                fanout::FanoutDriver::new(subscriber, health.clone()),
                RedisAdapterConfig::new()
                    .with_prefix("haven:socket.io")
                    .with_stream_buffer(FANOUT_BUFFER),
            );
            let (layer, io) = configure(
                SocketIo::builder().with_adapter::<SharedAdapter>(adapter),
                realtime,
            )
            .build_layer();
            io.ns("/", on_connect.with(handshake::authenticate))
                .await
                .map_err(|e| StartError::Adapter(Box::new(e)))?;
            tokio::spawn(reconnect_on_resync(io.clone(), health.resyncs()));
            (Layer::Shared(layer), Io::Shared(io))
        }
    };
    delivery.attach(io.clone(), health);
    with_io!(io.clone(), io => tokio::spawn(session_watch::run(
        io,
        db,
        session_check,
        session_absolute,
    )));
    Ok((layer, Sockets(io)))
}

/// The settings every node's Socket.IO server has, whichever adapter.
fn configure<A: Adapter>(builder: SocketIoBuilder<A>, realtime: Realtime) -> SocketIoBuilder<A> {
    builder
        // The handlers of client events take only the chat service (one `Arc` clone per
        // event, where `Realtime` would clone its strings).
        .with_state(realtime.chat.clone())
        // Every client event's handler, made once: sockets only point at it.
        .with_state(Arc::new(Routes::<A>::new(realtime.watching_for)))
        .with_state(realtime)
        // Each socket keeps a read buffer of this size for its whole life. Chat frames are a
        // few hundred bytes; a longer one is read in several chunks.
        .ws_read_buffer_size(WS_READ_BUFFER)
        .max_buffer_size(SEND_BUFFER)
        .ws_max_message_size(MAX_MESSAGE_BYTES)
        .ws_max_frame_size(MAX_MESSAGE_BYTES)
        .max_payload(MAX_MESSAGE_BYTES as u64)
        .connect_timeout(AUTH_TIMEOUT)
}

/// How long sockets asked to reconnect have to do so before they are disconnected (a
/// client that does not know the request).
const RECONNECT_GRACE: Duration = Duration::from_secs(2);

/// Each time Redis' health asks for it: tells this node's sockets to reconnect, which
/// catches them up from the database (and, while this node is down, sends them to another);
/// sockets still here after [`RECONNECT_GRACE`] are disconnected.
async fn reconnect_on_resync<A: Adapter>(io: SocketIo<A>, mut resyncs: watch::Receiver<u64>) {
    while resyncs.changed().await.is_ok() {
        let Some(asked) = io.of("/").map(|ns| ns.sockets()) else {
            return; // shut down
        };
        if asked.is_empty() {
            continue;
        }
        tracing::info!(
            sockets = asked.len(),
            "asking this node's sockets to reconnect"
        );
        for socket in &asked {
            let _ = messaging::emit::<server::Reconnect, _>(socket, &Done {});
        }
        tokio::time::sleep(RECONNECT_GRACE).await;
        for socket in asked.into_iter().filter(|s| s.connected()) {
            let _ = socket.disconnect();
        }
    }
}

/// The request headers a socket still reads once it is open: the handshake's origin check
/// (`origin`, `sec-fetch-site`) and session (`cookie`), the WebSocket upgrade
/// (`sec-websocket-key`) and a polling POST's payload (`content-type`). Whatever else a
/// handler reads from `req_parts` must be added here.
const SOCKET_HEADERS: [HeaderName; 5] = [
    header::COOKIE,
    header::ORIGIN,
    HeaderName::from_static("sec-fetch-site"),
    header::SEC_WEBSOCKET_KEY,
    header::CONTENT_TYPE,
];

/// Socket.IO keeps each connection's request head (`req_parts`) for as long as the socket
/// lives. Hyper parses the URI and header values as slices of its per-connection read buffer
/// (8–16 KiB), so keeping them would keep that whole buffer per socket; copying the few
/// headers a socket reads ([`SOCKET_HEADERS`]) into a map of their size lets it go once the
/// connection is upgraded, and leaves the rest (a browser's user agent, languages,
/// caches, extensions: about 1.2 KB a socket, measured with heaptrack) behind.
pub async fn detach_request_head(mut req: Request) -> Request {
    if req.uri().path().starts_with("/socket.io/") {
        let headers = std::mem::take(req.headers_mut());
        let mut copy = HeaderMap::with_capacity(SOCKET_HEADERS.len());
        for name in &SOCKET_HEADERS {
            // Every value: HTTP/2 may split `cookie` over several fields.
            for value in headers.get_all(name) {
                if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
                    copy.append(name.clone(), value);
                }
            }
        }
        *req.headers_mut() = copy;
        if let Ok(uri) = Uri::try_from(req.uri().to_string()) {
            // axum's copy of the URI as it arrived is a slice of the same buffer.
            req.extensions_mut().insert(OriginalUri(uri.clone()));
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Called from the handshake middleware, i.e. before socketioxide sends the CONNECT packet:
/// handlers registered later (in the connect handler, which runs after that packet) would
/// miss events a client emits right after connecting.
fn attach<A: Adapter>(socket: &SocketRef<A>, session: &SocketSession, routes: &Arc<Routes<A>>) {
    socket.on_fallback(Dispatch(routes.clone()));
    attention::attach(socket, session.user.id);
    socket.join([user_room(session.user.id), session_room(&session.room)]);
    if session.user.role == app::protocol::Role::Student {
        socket.join(STUDENTS_ROOM);
    }
}

async fn on_connect<A: Adapter>(
    socket: SocketRef<A>,
    Extension(session): Extension<SocketSession>,
    State(realtime): State<Realtime>,
    auth: TryData<Object<HandshakeAuth>>,
) {
    tracing::debug!(user = %session.user.id, "socket connected");
    let (user, role) = (session.user.id, session.user.role);
    let chat = realtime.chat;
    crate::metrics::METRICS.socket_opened();
    chat.connected(user, role).await;
    {
        let chat = chat.clone();
        socket.on_disconnect(async move || {
            crate::metrics::METRICS.socket_closed();
            chat.disconnected(user, role)
        });
    }
    if !socket.connected() {
        // Closed before the handler above was in place: count it gone now.
        crate::metrics::METRICS.socket_closed();
        chat.disconnected(user, role);
        return;
    }
    // Anything but an object (or unreadable) counts as absent.
    let auth = auth.0.map(|Object(auth)| auth).unwrap_or_default();
    match chat
        .presence_snapshot(user, role, auth.presence_since)
        .await
    {
        Ok(snapshot) => {
            if let Err(e) = messaging::emit::<server::PresenceSnapshot, _>(&socket, &snapshot) {
                tracing::debug!(error = %e, "presence snapshot not sent");
            }
        }
        Err(e) => e.log("presence snapshot", user),
    }
    messaging::replay(&socket, &chat, user, auth.last_seen_id).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socket_request_keeps_the_headers_it_reads_and_its_uri_after_the_copy() {
        let uri = "/socket.io/?EIO=4&transport=websocket";
        let mut request = Request::builder()
            .uri(uri)
            .header("cookie", "haven_session=synthetic")
            .header("origin", "http://127.0.0.1:3000")
            .header("sec-fetch-site", "same-origin")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("user-agent", "Mozilla/5.0 (synthetic)")
            .body(axum::body::Body::empty())
            .expect("a valid request");
        let original = OriginalUri(request.uri().clone());
        request.extensions_mut().insert(original);
        let copied = detach_request_head(request).await;
        assert_eq!(copied.uri(), uri);
        assert_eq!(copied.headers()["cookie"], "haven_session=synthetic");
        assert_eq!(copied.headers()["origin"], "http://127.0.0.1:3000");
        assert_eq!(copied.headers()["sec-fetch-site"], "same-origin");
        assert_eq!(
            copied.headers()["sec-websocket-key"],
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        assert!(copied.headers().get("user-agent").is_none());
        assert_eq!(copied.headers().len(), 4);
        assert_eq!(
            copied.extensions().get::<OriginalUri>().map(|u| &u.0),
            Some(copied.uri())
        );
    }
}
