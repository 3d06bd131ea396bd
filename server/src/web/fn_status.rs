//! The HTTP status of a server function's error. server_fn answers every error with 500,
//! including arguments it could not decode before any of Haven's code ran; this layer
//! reads the error's code back from the body and answers with the status the code means
//! (`app::error::ErrorCode::http_status`, the one table), with `Retry-After` for `rate_limited`. A
//! plain form's error is a redirect back to its page (302) and is left alone.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{header, HeaderValue, StatusCode};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// An encoded error is a code and a sentence; anything longer is not one of Haven's.
const ERROR_BODY_LIMIT: usize = 16 * 1024;

/// Gives a server function's error response the status of its code.
pub async fn by_error_code(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, ERROR_BODY_LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Some((status, retry_after)) = app::error::status_of_encoded_error(&bytes) {
        parts.status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(seconds) = retry_after {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
