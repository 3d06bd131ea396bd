//! What a session holds and how it is read: from the request (tower-sessions) for HTTP, and
//! from the cookie header against the store for Socket.IO handshakes.

use crate::store::sessions::Sessions;
use app::protocol::{Role, UserId};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use tower_sessions::session::Id;
use tower_sessions::{Session, SessionStore};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "haven_session";
/// A non-secret cookie remembering which sign-in page to send a signed-out visitor to.
pub const ROLE_HINT_COOKIE: &str = "haven_role";
const USER_KEY: &str = "user";
const SOCKET_ROOM_KEY: &str = "socket_room";
/// When the user signed in (Unix seconds): the start of the session's absolute lifetime.
const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// Seconds without activity after which this session ends, when shorter than the default.
const IDLE_LIMIT_KEY: &str = "idle_limit_secs";
/// Signed in as "This is a shared computer": the cookie lasts until the browser closes.
const SHARED_KEY: &str = "shared";
/// A recovery code not yet confirmed as saved: shown until then, on this session only.
const RECOVERY_CODE_KEY: &str = "recovery_code";

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub role: Role,
}

/// What a socket knows of the session it was opened with.
#[derive(Debug, Clone)]
pub struct SocketSession {
    /// The session's id in the store, to check later that it is still valid.
    pub id: Id,
    pub user: SessionUser,
    /// A random token naming the session's socket room (see `realtime::session_room`).
    pub room: String,
    /// When the user signed in (Unix seconds).
    pub signed_in_at: i64,
}

/// Now, in Unix seconds.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether a session started at `signed_in_at` has outlived its absolute `lifetime`.
pub fn outlived(signed_in_at: i64, lifetime: std::time::Duration) -> bool {
    let lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
    now_secs().saturating_sub(signed_in_at) >= lifetime
}

/// Errors from the session store.
pub type SessionError = tower_sessions::session::Error;

/// Binds the session to `user`, under a new session id (no fixation). `idle_limit` is
/// the inactivity limit of a shared computer or a psychiatrist, if any.
pub async fn start(
    session: &Session,
    user: SessionUser,
    shared: bool,
    idle_limit: Option<std::time::Duration>,
) -> Result<(), SessionError> {
    session.cycle_id().await?;
    let room: u128 = rand::random();
    session
        .insert(SOCKET_ROOM_KEY, format!("{room:032x}"))
        .await?;
    session.insert(SIGNED_IN_AT_KEY, now_secs()).await?;
    if shared {
        session.insert(SHARED_KEY, true).await?;
    }
    if let Some(limit) = idle_limit {
        session.insert(IDLE_LIMIT_KEY, limit.as_secs()).await?;
    }
    session.insert(USER_KEY, user).await
}

/// What the page needs to know of this session's limits.
pub async fn limits(session: &Session) -> Result<app::protocol::SessionLimits, SessionError> {
    Ok(app::protocol::SessionLimits {
        idle_secs: session.get(IDLE_LIMIT_KEY).await?,
        shared: session.get::<bool>(SHARED_KEY).await?.unwrap_or(false),
    })
}

/// Marks a response whose session cookie must last only until the browser closes
/// ([`browser_session_cookie`] acts on it, outside the session layer).
#[derive(Debug, Clone, Copy)]
struct BrowserSessionCookie;

/// Middleware (inside the session layer): a session with its own inactivity limit is
/// saved with that limit, so the store expires it (and the socket watch closes its
/// connections) after that long without a request; a shared computer's is marked for a
/// cookie that ends with the browser.
pub async fn apply_idle_limit(
    session: Session,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    // Read after the handler: a sign-in in this very request counts.
    let Ok(limits) = limits(&session).await else {
        return response;
    };
    if let Some(limit) = limits.idle_secs {
        let limit = time::Duration::seconds(i64::try_from(limit).unwrap_or(i64::MAX));
        session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(limit)));
    }
    if limits.shared {
        response.extensions_mut().insert(BrowserSessionCookie);
    }
    response
}

/// Middleware (outside the session layer): drops `Max-Age` and `Expires` from a shared
/// computer's session cookie, which then ends when the browser closes. tower-sessions
/// cannot express "browser session, and a short idle expiry on the server" in one setting.
pub async fn browser_session_cookie(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if response
        .extensions()
        .get::<BrowserSessionCookie>()
        .is_none()
    {
        return response;
    }
    let headers = response.headers_mut();
    let cookies: Vec<http::HeaderValue> = headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .map(|value| match value.to_str() {
            Ok(text) if text.starts_with(&format!("{COOKIE_NAME}=")) => {
                http::HeaderValue::from_str(&without_lifetime(text)).unwrap_or(value.clone())
            }
            _ => value.clone(),
        })
        .collect();
    headers.remove(http::header::SET_COOKIE);
    for cookie in cookies {
        headers.append(http::header::SET_COOKIE, cookie);
    }
    response
}

/// A `Set-Cookie` value without its `Max-Age` and `Expires` attributes.
fn without_lifetime(cookie: &str) -> String {
    cookie
        .split(';')
        .filter(|part| {
            let name = part.trim().to_ascii_lowercase();
            !(name.starts_with("max-age=") || name.starts_with("expires="))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// When this session's user signed in, if it is signed in.
pub async fn signed_in_at(session: &Session) -> Result<Option<i64>, SessionError> {
    session.get(SIGNED_IN_AT_KEY).await
}

/// The session's socket room token, if it is signed in.
pub async fn socket_room(session: &Session) -> Result<Option<String>, SessionError> {
    session.get(SOCKET_ROOM_KEY).await
}

/// The signed-in user of this session, if any.
pub async fn current(session: &Session) -> Result<Option<SessionUser>, SessionError> {
    session.get(USER_KEY).await
}

/// Every stored session of `user` (to end them all when the account is deleted).
pub async fn of_user(
    db: &crate::store::Db,
    user: app::protocol::UserId,
) -> Result<Vec<crate::store::sessions::UserSession>, crate::store::StoreError> {
    crate::store::sessions::of_user(db, user, USER_KEY, SOCKET_ROOM_KEY).await
}

/// Keeps a new recovery code to show (and download) until the person says they saved it.
pub async fn keep_recovery_code(
    session: &Session,
    code: &super::recovery_code::RecoveryCode,
) -> Result<(), SessionError> {
    session.insert(RECOVERY_CODE_KEY, code.to_string()).await
}

/// The recovery code waiting to be saved, as shown (groups of four), if any.
pub async fn recovery_code(session: &Session) -> Result<Option<String>, SessionError> {
    session.get(RECOVERY_CODE_KEY).await
}

/// Forgets the code once the person saved it: it is shown no more.
pub async fn forget_recovery_code(session: &Session) -> Result<(), SessionError> {
    session
        .remove::<String>(RECOVERY_CODE_KEY)
        .await
        .map(|_| ())
}

/// Deletes the session, server side and in the browser.
pub async fn end(session: &Session) -> Result<(), SessionError> {
    session.flush().await
}

/// Middleware (inside the session layer): a session older than its absolute lifetime is
/// ended, however active it has been, so the request goes on signed out.
pub async fn end_outlived(
    axum::extract::State(lifetime): axum::extract::State<SessionLifetime>,
    session: Session,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match current(&session).await {
        Ok(Some(_)) => {
            let started = signed_in_at(&session).await.ok().flatten();
            // Sessions from before the absolute lifetime existed have no start: end them too.
            if started.is_none_or(|at| outlived(at, lifetime.absolute)) {
                if let Err(e) = end(&session).await {
                    tracing::error!(error = %e, "could not end an outlived session");
                }
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "session read failed"),
    }
    next.run(request).await
}

/// Middleware (inside the session layer): a signed-out visit to a page behind sign-in
/// (`/chat` and below) is sent to the sign-in page by the server (303), with where it was
/// going as `next`: it works before, and without, any JavaScript.
pub async fn require_sign_in(
    session: Session,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    let behind_sign_in = path == "/chat" || path.starts_with("/chat/");
    if behind_sign_in && request.method() == http::Method::GET {
        match current(&session).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                let target = request
                    .uri()
                    .path_and_query()
                    .map_or("/chat", |p| p.as_str());
                let target: String =
                    url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
                let login = login_path_for(request.headers());
                return axum::response::Redirect::to(&format!("{login}?next={target}"))
                    .into_response();
            }
            Err(e) => tracing::error!(error = %e, "session read failed"),
        }
    }
    next.run(request).await
}

/// How long sessions may last.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetime {
    /// Without a request in this long, a session ends (the store's expiry).
    pub idle: std::time::Duration,
    /// A session ends this long after sign-in, active or not.
    pub absolute: std::time::Duration,
    /// A shared computer's session ends after this long without activity.
    pub shared_idle: std::time::Duration,
    /// A psychiatrist's session ends after this long without activity.
    pub psychiatrist_idle: std::time::Duration,
}

impl SessionLifetime {
    /// The inactivity limit of a new session, when shorter than the default `idle`.
    pub fn idle_limit_for(&self, role: Role, shared: bool) -> Option<std::time::Duration> {
        let limits = [
            shared.then_some(self.shared_idle),
            (role == Role::Psychiatrist).then_some(self.psychiatrist_idle),
        ];
        limits
            .into_iter()
            .flatten()
            .min()
            .filter(|l| *l < self.idle)
    }
}

/// Reads the session cookie from raw headers and loads it from the store: the Socket.IO
/// handshake has no tower-sessions layer in front of it. Expired sessions are not returned
/// by the store.
pub async fn socket_session(
    store: &Sessions,
    headers: &HeaderMap,
) -> Result<Option<SocketSession>, tower_sessions::session_store::Error> {
    let Some(id) = cookie(headers, COOKIE_NAME).and_then(|v| v.parse::<Id>().ok()) else {
        return Ok(None);
    };
    let Some(record) = store.load(&id).await? else {
        return Ok(None);
    };
    let field = |key: &str| record.data.get(key).cloned();
    let user = field(USER_KEY).and_then(|v| serde_json::from_value::<SessionUser>(v).ok());
    let room = field(SOCKET_ROOM_KEY).and_then(|v| serde_json::from_value::<String>(v).ok());
    let signed_in_at = field(SIGNED_IN_AT_KEY).and_then(|v| v.as_i64());
    Ok(match (user, room, signed_in_at) {
        (Some(user), Some(room), Some(signed_in_at)) => Some(SocketSession {
            id,
            user,
            room,
            signed_in_at,
        }),
        _ => None,
    })
}

/// Of these sessions (by id), those still valid: they exist and have not expired. For the
/// watch that closes the connections of ended sessions; one query for all of them.
pub async fn still_valid(
    db: &crate::store::Db,
    ids: &[String],
) -> Result<std::collections::HashSet<String>, crate::store::StoreError> {
    crate::store::sessions::unexpired(db, ids).await
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// The sign-in page to send a signed-out visitor to: their last role's, else the student's.
pub fn login_path_for(headers: &HeaderMap) -> &'static str {
    cookie(headers, ROLE_HINT_COOKIE)
        .and_then(Role::parse)
        .unwrap_or(Role::Student)
        .login_path()
}

/// `Set-Cookie` value that remembers the role (a year; not secret, only picks a page).
pub fn role_hint_set_cookie(role: Role, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{ROLE_HINT_COOKIE}={role}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookies_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "a=1; haven_session=abc; haven_role=psychiatrist"
                .parse()
                .unwrap(),
        );
        assert_eq!(cookie(&headers, COOKIE_NAME), Some("abc"));
        assert_eq!(login_path_for(&headers), "/login/psychiatrist");
        assert_eq!(login_path_for(&HeaderMap::new()), "/login/student");
    }
}
