//! Server functions: the UI's calls to the server.

pub mod auth;
pub mod care;
pub mod chat;
pub mod push;

/// The chat backend and the request, for a server function (context the server provides).
#[cfg(feature = "ssr")]
pub(crate) fn chat_backend(
) -> Result<(crate::backend::SharedChatBackend, http::request::Parts), crate::protocol::AckError> {
    use leptos::prelude::use_context;
    let internal =
        || crate::protocol::AckError::new(crate::error::ErrorCode::Internal, "internal error");
    let backend = use_context::<crate::backend::SharedChatBackend>().ok_or_else(internal)?;
    let parts = use_context::<http::request::Parts>().ok_or_else(internal)?;
    Ok((backend, parts))
}

/// Whether the request is a browser's plain form post (no JavaScript): it accepts HTML.
#[cfg(feature = "ssr")]
pub(crate) fn is_plain_form(req: &http::request::Parts) -> bool {
    req.headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// A plain form post (no JavaScript) that fails must come back to its page with the error,
/// which server functions do by redirecting to the `Referer`. Haven's pages send no
/// `Referer` (`Referrer-Policy: no-referrer`), so each form names its page here; without
/// this the person would land on the home page with the error lost.
#[cfg(feature = "ssr")]
pub(crate) fn back_to_page_on_error<T, E>(
    server_fn_path: &str,
    page: &str,
    result: Result<T, E>,
) -> Result<T, E>
where
    E: leptos::server_fn::error::FromServerFnError + Clone,
{
    use http::{header, HeaderValue};
    use leptos::prelude::use_context;
    use leptos::server_fn::error::ServerFnUrlError;
    let Err(err) = &result else {
        return result;
    };
    let Some(req) = use_context::<http::request::Parts>() else {
        return result;
    };
    if !is_plain_form(&req) || req.headers.contains_key(header::REFERER) {
        return result;
    }
    // `to_url` wants an absolute base; only the path and query are kept.
    let url = ServerFnUrlError::new(server_fn_path, err.clone())
        .to_url(&format!("http://haven.invalid{page}"));
    let location = url.ok().and_then(|url| {
        HeaderValue::from_str(&format!(
            "{}?{}",
            url.path(),
            url.query().unwrap_or_default()
        ))
        .ok()
    });
    if let (Some(location), Some(response)) =
        (location, use_context::<leptos_axum::ResponseOptions>())
    {
        response.insert_header(header::LOCATION, location);
    }
    result
}
