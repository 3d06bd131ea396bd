//! The connect middleware: a socket is accepted only with a valid session cookie and, from a
//! browser, only from the site's own origin (the same rule as HTTP state changes).

use std::sync::Arc;

use app::error::ErrorCode;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, State};
use thiserror::Error;

use super::messaging::Routes;
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
    /// This node cannot reach Redis now (several nodes): the client tries again shortly,
    /// and the balancer sends it to a node that can.
    #[error("{}", app::protocol::events::UNAVAILABLE)]
    Unavailable,
}

/// Checks origin and session, and attaches the [`session::SocketSession`] to the socket.
pub async fn authenticate<A: Adapter>(
    socket: SocketRef<A>,
    State(realtime): State<Realtime>,
    State(routes): State<Arc<Routes<A>>>,
) -> Result<(), HandshakeError> {
    if realtime
        .redis
        .as_ref()
        .is_some_and(|health| !health.is_up())
    {
        tracing::info!(code = %ErrorCode::Unavailable, "socket refused: Redis unreachable");
        crate::metrics::METRICS.error(ErrorCode::Unavailable);
        return Err(HandshakeError::Unavailable);
    }
    let headers = &socket.req_parts().headers;
    if realtime.origin.judge(headers) == Verdict::Foreign {
        tracing::info!(code = %ErrorCode::ForbiddenOrigin, "socket refused");
        crate::metrics::METRICS.error(ErrorCode::ForbiddenOrigin);
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
            tracing::info!(code = %ErrorCode::Unauthenticated, "socket refused");
            crate::metrics::METRICS.error(ErrorCode::Unauthenticated);
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
    super::attach(&socket, &session, &routes);
    // Apart as well: what every event's handler reads, without cloning the session.
    socket.extensions.insert(session.user);
    socket.extensions.insert(session);
    Ok(())
}
