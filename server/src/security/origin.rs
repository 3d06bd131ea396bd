//! The site's own origin, from the one public-URL setting, and the rule that judges where a
//! request comes from. Used for every state-changing HTTP request and for the Socket.IO
//! handshake, so the two cannot disagree.
//!
//! The rule is Go's `CrossOriginProtection`: a browser always says where a request comes
//! from (`Sec-Fetch-Site`, or at least `Origin` on a POST or a WebSocket); a request that
//! carries neither comes from no browser (curl, tests, the benchmark, `rust_socketio`) and
//! cannot ride on a victim's cookies, so it is judged by its session alone.

use std::fmt;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::ORIGIN;
use http::Uri;
use thiserror::Error;

/// `scheme://host[:port]` of the public URL, the only origin browsers may act from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin {
    https: bool,
    /// Lowercase host, with the port when it is not the scheme's default.
    authority: String,
}

/// The public URL could not be used.
#[derive(Debug, Error)]
pub enum PublicUrlError {
    #[error("the public URL must look like https://haven.example.edu (got {0:?})")]
    Malformed(String),
    #[error("the public URL must be http:// or https:// (got {0:?})")]
    Scheme(String),
}

impl PublicOrigin {
    /// Parses a public URL (`https://haven.example.edu`, `http://127.0.0.1:3000`); a path
    /// is allowed and ignored.
    pub fn parse(url: &str) -> Result<Self, PublicUrlError> {
        parse_origin(url.trim())
    }

    /// Served over TLS: cookies get `Secure`, responses get HSTS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// Whether `origin` (an `Origin` header value) is this one.
    pub fn matches(&self, origin: &str) -> bool {
        parse_origin(origin).is_ok_and(|o| o == *self)
    }

    /// Judges a request by the headers browsers add: `Sec-Fetch-Site`, else `Origin`.
    pub fn judge(&self, headers: &HeaderMap) -> Verdict {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(site) = header("sec-fetch-site") {
            // `none`: the person typed the address or used a bookmark.
            return match site {
                "same-origin" | "none" => Verdict::SameOrigin,
                _ => Verdict::Foreign,
            };
        }
        match headers.get(ORIGIN) {
            None => Verdict::NoBrowser,
            Some(origin) if origin.to_str().is_ok_and(|o| self.matches(o)) => Verdict::SameOrigin,
            // Includes `Origin: null` (sandboxed frames, some cross-site redirects).
            Some(_) => Verdict::Foreign,
        }
    }
}

impl fmt::Display for PublicOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.authority)
    }
}

fn parse_origin(text: &str) -> Result<PublicOrigin, PublicUrlError> {
    let malformed = || PublicUrlError::Malformed(text.to_owned());
    let uri: Uri = text.parse().map_err(|_| malformed())?;
    let https = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => true,
        Some("http") => false,
        Some(_) => return Err(PublicUrlError::Scheme(text.to_owned())),
        None => return Err(malformed()),
    };
    let authority = uri.authority().ok_or_else(malformed)?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return Err(malformed());
    }
    let default_port = if https { 443 } else { 80 };
    let host = authority.host().to_ascii_lowercase();
    let authority = match authority.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host,
    };
    Ok(PublicOrigin { https, authority })
}

/// Where a request comes from, as far as the server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A browser on this site (or the person typing the address).
    SameOrigin,
    /// A browser on another site, another port or another scheme.
    Foreign,
    /// Not a browser: judged by its session alone.
    NoBrowser,
}

/// Middleware: a state-changing request (anything but GET, HEAD, OPTIONS) from a foreign
/// origin is refused with 403 before any handler runs, so nothing is stored or signed in.
pub async fn refuse_foreign_writes(
    State(origin): State<PublicOrigin>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && origin.judge(request.headers()) == Verdict::Foreign {
        tracing::info!(code = %app::error::ErrorCode::ForbiddenOrigin, method = %request.method(), "request refused");
        return (
            StatusCode::FORBIDDEN,
            "This request did not come from Haven's own pages.",
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn the_whole_origin_is_compared() {
        let site = PublicOrigin::parse("http://127.0.0.1:3000").unwrap();
        assert!(site.matches("http://127.0.0.1:3000"));
        assert!(!site.matches("https://127.0.0.1:3000"), "scheme");
        assert!(!site.matches("http://127.0.0.1:3001"), "port");
        assert!(!site.matches("http://localhost:3000"), "host");
        assert!(!site.matches("null"));
        let tls = PublicOrigin::parse("https://Haven.Example.edu/").unwrap();
        assert!(tls.is_https());
        assert!(tls.matches("https://haven.example.edu"));
        assert!(tls.matches("https://haven.example.edu:443"), "default port");
        assert!(!tls.matches("http://haven.example.edu"));
        assert_eq!(tls.to_string(), "https://haven.example.edu");
        assert!(PublicOrigin::parse("ftp://x").is_err());
        assert!(PublicOrigin::parse("haven.example.edu").is_err());
    }

    #[test]
    fn browsers_are_judged_by_fetch_metadata_then_origin() {
        let site = PublicOrigin::parse("http://127.0.0.1:3000").unwrap();
        let judge = |pairs| site.judge(&headers(pairs));
        assert_eq!(judge(&[]), Verdict::NoBrowser);
        assert_eq!(
            judge(&[("sec-fetch-site", "same-origin")]),
            Verdict::SameOrigin
        );
        assert_eq!(judge(&[("sec-fetch-site", "same-site")]), Verdict::Foreign);
        assert_eq!(judge(&[("sec-fetch-site", "cross-site")]), Verdict::Foreign);
        assert_eq!(
            judge(&[("origin", "http://127.0.0.1:3000")]),
            Verdict::SameOrigin
        );
        assert_eq!(
            judge(&[("origin", "http://127.0.0.1:8080")]),
            Verdict::Foreign
        );
        assert_eq!(judge(&[("origin", "null")]), Verdict::Foreign);
        // Fetch metadata wins over an Origin that a proxy might have rewritten.
        assert_eq!(
            judge(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:3000")
            ]),
            Verdict::Foreign
        );
    }
}
