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
    path.starts_with("/pkg/") || path.starts_with("/vendor/")
}

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
             form-action 'self'; frame-ancestors 'none'",
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
    let cacheable = is_static_asset(request.uri().path());
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
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
}
