//! The connect middleware: a socket is accepted only with a valid session cookie and, from a
//! browser, only from the site's own origin.

use http::header::{HOST, ORIGIN};
use http::HeaderMap;
use socketioxide::extract::{SocketRef, State};
use thiserror::Error;

use super::Realtime;
use crate::auth::session;

/// Why a handshake was refused; the client sees the message in `connect_error`.
#[derive(Debug, Error)]
pub enum HandshakeError {
    #[error("unauthenticated: sign in first")]
    Unauthenticated,
    #[error("forbidden origin")]
    ForbiddenOrigin,
    #[error("internal error")]
    Internal,
}

/// Checks origin and session, and attaches the [`session::SocketSession`] to the socket.
pub async fn authenticate(
    socket: SocketRef,
    State(realtime): State<Realtime>,
) -> Result<(), HandshakeError> {
    let headers = &socket.req_parts().headers;
    if !origin_allowed(headers, &realtime.allowed_origins) {
        tracing::info!(code = "forbidden_origin", "socket refused");
        return Err(HandshakeError::ForbiddenOrigin);
    }
    let session = session::socket_session(&realtime.sessions, headers)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            HandshakeError::Internal
        })?
        .ok_or_else(|| {
            tracing::info!(code = "unauthenticated", "socket refused");
            HandshakeError::Unauthenticated
        })?;
    super::attach(&socket, &session);
    socket.extensions.insert(session);
    Ok(())
}

/// Browsers always send `Origin` on WebSocket and cross-site requests; it must name this
/// site (the `Host` the request came to) or a configured origin. Clients that are not
/// browsers send none and are judged by their cookie alone.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return true;
    }
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn same_origin_only() {
        assert!(origin_allowed(&headers(None, "127.0.0.1:3000"), &[]));
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://evil.example"), "127.0.0.1:3000"),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(Some("http://127.0.0.1:3001"), "127.0.0.1:3000"),
            &[]
        ));
        assert!(origin_allowed(
            &headers(Some("https://haven.example"), "10.0.0.5:3000"),
            &["https://haven.example".into()]
        ));
    }
}
