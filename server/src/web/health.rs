//! What a load balancer and a monitoring system ask: `/healthz` (can this node serve?) and
//! `/metrics` (Prometheus text, counts only).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use crate::security::client_addr::ClientAddr;
use crate::state::AppState;
use crate::store;

/// 200 when this node can serve: the database answers, the message writer runs and, with
/// several nodes, Redis answers. 503 otherwise, saying which is missing (never more).
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, String) {
    let database = match store::ping(&state.db).await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::error!(error = %crate::report::chain(&e), "health check: database unavailable");
            "unavailable"
        }
    };
    let writer = if state.chat.writer_alive() {
        "ok"
    } else {
        "stopped"
    };
    let redis = state
        .redis
        .as_ref()
        .map(|health| if health.is_up() { "ok" } else { "unavailable" });
    let healthy = database == "ok" && writer == "ok" && redis.is_none_or(|r| r == "ok");
    let mut body = format!("database: {database}\nwriter: {writer}\n");
    if let Some(redis) = redis {
        body.push_str(&format!("redis: {redis}\n"));
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body)
}

/// The counters, to a client on this machine only (through a trusted proxy: the address it
/// reports). Nothing in them names anyone, but they are the operator's, not the public's.
pub async fn metrics(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
) -> Response {
    let local = client.is_some_and(|Extension(ClientAddr(addr))| addr.is_loopback());
    if !local {
        return StatusCode::NOT_FOUND.into_response();
    }
    let text = crate::metrics::METRICS.render(
        state.chat.writer_queue_depth(),
        state.chat.behind(),
        state.chat.shedding(),
        state.redis.as_ref().map(|health| health.is_up()),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
