//! The floor of Haven's socket stack, for benchmarks only: the bench contract
//! (`shared/bench/CONTRACT.md`) on axum + socketioxide with everything in memory, like the
//! Node reference server, and the same socket settings as `haven serve` (1 KiB WebSocket
//! read buffer, TCP_NODELAY, a current-thread runtime on one core, the same malloc
//! settings, the request head copied before socketioxide keeps it).
//!
//! It answers one question with numbers: how much of Haven's CPU per message and memory per
//! socket is the socket layer itself, before any session store, SQLite or presence. It is
//! not a server for people: no passwords, no limits, nothing persisted.
//!
//! `cargo build --release -p server --example socket_floor`, then
//! `PORT=3200 target/release/examples/socket_floor` (what `scripts/bench.sh --floor` does).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{OriginalUri, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde_json::{json, Value};
use socketioxide::extract::{AckSender, Data, Extension, SocketRef, State as IoState};
use socketioxide::handler::ConnectHandler;
use socketioxide::SocketIo;

const PASSWORD: &str = "bench-password";

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Student,
    Psychiatrist,
}

#[derive(Clone, Copy)]
struct User {
    id: i64,
    role: Role,
}

/// Everything the reference keeps in its maps, behind one lock (one core, short sections).
#[derive(Default)]
struct Memory {
    users: HashMap<String, User>,
    users_by_id: HashMap<i64, User>,
    sessions: HashMap<String, User>,
    conversations: HashMap<(i64, i64), i64>,
    members: HashMap<i64, [i64; 2]>,
    by_client_id: HashMap<(i64, String), Arc<Value>>,
    messages: Vec<Arc<Value>>,
    next_user: i64,
    next_conversation: i64,
    next_message: i64,
}

type Shared = Arc<Mutex<Memory>>;

/// The contract's rule: "-s" or a leading "s" is a student, "-p" or "p" a psychiatrist.
fn role_of(username: &str) -> Option<Role> {
    if username.contains("-s") || username.starts_with('s') {
        Some(Role::Student)
    } else if username.contains("-p") || username.starts_with('p') {
        Some(Role::Psychiatrist)
    } else {
        None
    }
}

async fn login(State(memory): State<Shared>, Json(body): Json<Value>) -> Response {
    let username = body.get("username").and_then(Value::as_str);
    let password = body.get("password").and_then(Value::as_str);
    let (Some(username), Some(role), Some(PASSWORD)) =
        (username, username.and_then(role_of), password)
    else {
        return (StatusCode::UNAUTHORIZED, "invalid credentials").into_response();
    };
    let token = format!("{:032x}", rand::random::<u128>());
    let user = {
        let mut m = lock(&memory);
        let next = m.next_user + 1;
        let user = *m
            .users
            .entry(username.to_owned())
            .or_insert(User { id: next, role });
        if user.id == next {
            m.next_user = next;
            m.users_by_id.insert(user.id, user);
        }
        m.sessions.insert(token.clone(), user);
        user
    };
    let role = match user.role {
        Role::Student => "student",
        Role::Psychiatrist => "psychiatrist",
    };
    let cookie = format!("sid={token}; HttpOnly; SameSite=Lax; Path=/");
    (
        [(header::SET_COOKIE, cookie)],
        Json(json!({"user": {"id": user.id, "username": username, "role": role}})),
    )
        .into_response()
}

fn session_user(memory: &Shared, headers: &HeaderMap) -> Option<User> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let token = cookies
        .split(';')
        .find_map(|c| c.trim().strip_prefix("sid="))?;
    lock(memory).sessions.get(token).copied()
}

/// A refusal: the ack's error code and message.
type Refusal = (&'static str, &'static str);

fn answer(ack: AckSender, result: Result<Value, Refusal>) {
    let reply = match result {
        Ok(value) => value,
        Err((code, message)) => json!({"ok": false, "error": {"code": code, "message": message}}),
    };
    let _ = ack.send(&reply);
}

async fn authenticate(socket: SocketRef, IoState(memory): IoState<Shared>) -> Result<(), String> {
    let user = session_user(&memory, &socket.req_parts().headers)
        .ok_or_else(|| "unauthorized".to_owned())?;
    socket.join(format!("user:{}", user.id));
    socket.extensions.insert(user);
    // Attached here, as in Haven: socketioxide sends CONNECT before the connect handler runs.
    socket.on("conversation:open", on_open);
    socket.on("message:send", on_send);
    Ok(())
}

async fn on_open(
    Data(payload): Data<Value>,
    ack: AckSender,
    IoState(memory): IoState<Shared>,
    Extension(me): Extension<User>,
) {
    let result = payload
        .get("peerId")
        .and_then(Value::as_i64)
        .ok_or(("not_found", "no such user"))
        .and_then(|peer| lock(&memory).open(me, peer))
        .map(|id| json!({"ok": true, "conversation": {"id": id}}));
    answer(ack, result);
}

async fn on_send(
    io: SocketIo,
    Data(payload): Data<Value>,
    ack: AckSender,
    IoState(memory): IoState<Shared>,
    Extension(me): Extension<User>,
) {
    let conversation = payload.get("conversationId").and_then(Value::as_i64);
    let client_id = payload.get("clientId").and_then(Value::as_str);
    let body = payload.get("body").and_then(Value::as_str);
    let (Some(conversation), Some(client_id), Some(body)) = (conversation, client_id, body) else {
        return answer(
            ack,
            Err(("invalid", "conversationId, clientId and body are required")),
        );
    };
    if uuid::Uuid::parse_str(client_id).is_err() {
        return answer(ack, Err(("invalid", "clientId must be a UUID")));
    }
    if body.trim().is_empty() || body.chars().count() > 4000 {
        return answer(
            ack,
            Err(("invalid", "body must be 1..4000 chars, not blank")),
        );
    }
    let stored = lock(&memory).store(me, conversation, client_id, body);
    let (message, fresh_to) = match stored {
        Ok(stored) => stored,
        Err(refusal) => return answer(ack, Err(refusal)),
    };
    answer(ack, Ok(json!({"ok": true, "message": &*message})));
    if let Some(members) = fresh_to {
        let rooms = members.map(|id| format!("user:{id}"));
        let _ = io.to(rooms).emit("message:new", &*message).await;
    }
}

fn lock(memory: &Shared) -> std::sync::MutexGuard<'_, Memory> {
    memory.lock().unwrap_or_else(|e| e.into_inner())
}

impl Memory {
    /// The pair's conversation, created on first open.
    fn open(&mut self, me: User, peer: i64) -> Result<i64, Refusal> {
        let peer = *self
            .users_by_id
            .get(&peer)
            .ok_or(("not_found", "no such user"))?;
        if peer.role == me.role {
            return Err(("forbidden", "students talk with psychiatrists"));
        }
        let pair = if me.role == Role::Student {
            (me.id, peer.id)
        } else {
            (peer.id, me.id)
        };
        let next = self.next_conversation + 1;
        let id = *self.conversations.entry(pair).or_insert(next);
        if id == next {
            self.next_conversation = next;
            self.members.insert(id, [pair.0, pair.1]);
        }
        Ok(id)
    }

    /// Stores a message once per (sender, clientId); the members to emit to when it is new.
    fn store(
        &mut self,
        me: User,
        conversation: i64,
        client_id: &str,
        body: &str,
    ) -> Result<(Arc<Value>, Option<[i64; 2]>), Refusal> {
        let members = *self
            .members
            .get(&conversation)
            .ok_or(("not_found", "no such conversation"))?;
        if !members.contains(&me.id) {
            return Err(("forbidden", "not a member"));
        }
        let key = (me.id, client_id.to_owned());
        if let Some(existing) = self.by_client_id.get(&key) {
            return Ok((existing.clone(), None));
        }
        self.next_message += 1;
        let created_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let message = Arc::new(json!({
            "id": self.next_message, "conversationId": conversation, "senderId": me.id,
            "clientId": client_id, "body": body, "createdAt": created_at,
        }));
        self.messages.push(message.clone());
        self.by_client_id.insert(key, message.clone());
        Ok((message, Some(members)))
    }
}

/// Everything happens in the middleware (see `authenticate`).
async fn on_connect() {}

/// The same copy Haven makes (see `realtime::detach_request_head`), so that the floor's
/// memory per socket is comparable.
async fn detach_request_head(mut req: Request) -> Request {
    let headers = std::mem::take(req.headers_mut());
    *req.headers_mut() = headers
        .iter()
        .filter_map(|(n, v)| Some((n.clone(), HeaderValue::from_bytes(v.as_bytes()).ok()?)))
        .collect();
    if let Ok(uri) = axum::http::Uri::try_from(req.uri().to_string()) {
        req.extensions_mut().insert(OriginalUri(uri.clone()));
        *req.uri_mut() = uri;
    }
    req
}

fn main() -> std::io::Result<()> {
    // SAFETY: allocator settings only, before any other thread exists (as in haven's main).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut builder = if cores == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()?.block_on(serve())
}

async fn serve() -> std::io::Result<()> {
    let memory = Shared::default();
    let (layer, io) = SocketIo::builder()
        .with_state(memory.clone())
        .ws_read_buffer_size(1024)
        .build_layer();
    io.ns("/", on_connect.with(authenticate));
    let app = Router::new()
        .route("/api/auth/login", post(login))
        .with_state(memory)
        .layer(layer)
        .layer(axum::middleware::map_request(detach_request_head));
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3200);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    println!("socket floor listening on http://{addr}");
    axum::serve(listener, app).await
}
