//! A response the browser saves as a file instead of showing it.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// `body` as a download named `filename` (a constant: never a user's text in a header).
pub fn attachment(body: Vec<u8>, content_type: &'static str, filename: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}
