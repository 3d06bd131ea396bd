//! Security headers on every response: a Content-Security-Policy that runs only the site's
//! own scripts (Leptos' inline hydration script carries a fresh nonce per response), no
//! framing, no sniffing, no referrer, HSTS over https, and nothing of a signed-in page or
//! of conversation data left in the browser's cache.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::HeaderValue;

/// This response's CSP nonce (a request extension): the page's inline scripts carry it.
#[derive(Debug, Clone)]
pub struct CspNonce(pub Arc<str>);

impl CspNonce {
    /// 128 random bits, hex-encoded.
    fn fresh() -> Self {
        let bytes: [u8; 16] = rand::random();
        let mut text = String::with_capacity(32);
        for b in bytes {
            let _ = write!(text, "{b:02x}");
        }
        CspNonce(text.into())
    }
}

/// What the headers depend on.
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    /// The public origin is https: send HSTS.
    pub https: bool,
    /// `cargo leptos watch`'s reload socket (`ws://host:port`), allowed in development only.
    pub dev_reload: Option<String>,
}

/// Static assets (the built WASM, JS, CSS and vendored scripts) hold no personal data and
/// may be cached; everything else may carry a page or data of a signed-in user.
fn is_static_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path.starts_with("/vendor/") || path.starts_with("/icons/")
}

/// An asset whose name changes whenever its content does, so a browser may keep it for
/// good: cargo-leptos' `haven.<22-character md5>.wasm`, or a vendored `name-<version>.js`.
fn is_fingerprinted(path: &str) -> bool {
    let Some(name) = path.rsplit('/').next() else {
        return false;
    };
    let content_hash = name.split('.').any(|part| {
        part.len() == 22
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let versioned = path.starts_with("/vendor/")
        && name
            .split_once('-')
            .is_some_and(|(_, rest)| rest.starts_with(|c: char| c.is_ascii_digit()));
    content_hash || versioned
}

/// A year, the longest caches honour; `immutable` spares even the revalidation on reload.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

impl HeaderPolicy {
    /// The Content-Security-Policy for a response with this nonce.
    pub fn csp(&self, nonce: &CspNonce) -> String {
        let connect = match &self.dev_reload {
            Some(reload) => format!("'self' {reload}"),
            None => "'self'".to_owned(),
        };
        format!(
            "default-src 'self'; \
             script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; font-src 'self'; \
             connect-src {connect}; object-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'; \
             worker-src 'self'; manifest-src 'self'",
            nonce = nonce.0
        )
    }
}

/// Middleware: makes the nonce, runs the request, adds the headers.
pub async fn add(
    State(policy): State<Arc<HeaderPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = CspNonce::fresh();
    let path = request.uri().path();
    let cacheable = is_static_asset(path);
    let forever = cacheable && is_fingerprinted(path);
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let succeeded = response.status().is_success();
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&policy.csp(&nonce)) {
        headers.insert(CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if policy.https {
        headers.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    if !cacheable {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else if forever && succeeded {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_FOREVER));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_only_from_the_site_or_with_the_nonce() {
        let policy = HeaderPolicy {
            https: false,
            dev_reload: None,
        };
        let nonce = CspNonce::fresh();
        assert_eq!(nonce.0.len(), 32);
        assert_ne!(nonce.0, CspNonce::fresh().0, "fresh per response");
        let csp = policy.csp(&nonce);
        assert!(csp.contains(&format!("script-src 'self' 'nonce-{}'", nonce.0)));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(is_static_asset("/pkg/haven.wasm"));
        assert!(!is_static_asset("/chat/1"));
    }

    #[test]
    fn only_names_that_change_with_the_content_are_cached_for_good() {
        assert!(is_fingerprinted("/pkg/haven.Xk3b9QmZ0pL2aW8yVt1cRg.wasm"));
        assert!(is_fingerprinted("/vendor/socket.io-4.8.4.min.js"));
        assert!(!is_fingerprinted("/pkg/haven.wasm"));
        assert!(!is_fingerprinted("/vendor/socket.io.min.js"));
    }

    #[test]
    fn the_vendored_client_is_the_version_npm_installs() {
        let manifest = include_str!("../../../package.json");
        let pinned = manifest
            .split("\"socket.io-client\":")
            .nth(1)
            .and_then(|rest| rest.split('"').nth(1))
            .expect("package.json pins socket.io-client");
        assert_eq!(
            app::SOCKET_IO_SCRIPT,
            format!("/vendor/socket.io-{pinned}.min.js")
        );
    }
}
