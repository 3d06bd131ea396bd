//! The connect middleware: a socket is accepted only with a valid session cookie and, from a
//! browser, only from the site's own origin (the same rule as HTTP state changes).

use socketioxide::extract::{SocketRef, State};
use thiserror::Error;

use super::Realtime;
use crate::auth::session;
use crate::security::client_addr::ClientAddr;
use crate::security::origin::Verdict;

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
    if realtime.origin.judge(headers) == Verdict::Foreign {
        tracing::info!(code = "forbidden_origin", "socket refused");
        return Err(HandshakeError::ForbiddenOrigin);
    }
    let session = session::socket_session(&realtime.sessions, headers)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session lookup failed");
            HandshakeError::Internal
        })?
        .filter(|s| !session::outlived(s.signed_in_at, realtime.session_absolute))
        .ok_or_else(|| {
            tracing::info!(code = "unauthenticated", "socket refused");
            HandshakeError::Unauthenticated
        })?;
    // The socket will receive every conversation of the user: recorded before it joins.
    let address = socket
        .req_parts()
        .extensions
        .get::<ClientAddr>()
        .map(|a| a.0);
    realtime
        .chat
        .opened_live(session.user.id, address)
        .await
        .map_err(|e| {
            e.log("socket open", session.user.id);
            HandshakeError::Internal
        })?;
    super::attach(&socket, &session);
    socket.extensions.insert(session);
    Ok(())
}
