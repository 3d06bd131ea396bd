//! `GET /offline.html`: the page the service worker shows when a page cannot be loaded. It
//! is cached on the device, so it holds nothing of anyone: it says Haven cannot be reached
//! and where to turn meanwhile (the service's crisis resources, numbers tappable). Read
//! without the session.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};

use crate::privacy::html::escape;
use app::protocol::CrisisList;

/// The offline page.
pub async fn page(State(crisis): State<CrisisList>) -> Response {
    let mut lines = String::new();
    for resource in crisis.0.iter() {
        lines.push_str("<li><strong>");
        lines.push_str(&escape(&resource.name));
        lines.push_str("</strong>");
        if let (Some(phone), Some(tel)) = (&resource.phone, resource.tel_href()) {
            lines.push_str(&format!(
                " · <a href=\"{}\">{}</a>",
                escape(&tel),
                escape(phone)
            ));
        }
        if let Some(text) = &resource.text {
            lines.push_str(&format!(" · {}", escape(text)));
        }
        if !resource.hours.is_empty() {
            lines.push_str(&format!(" · {}", escape(&resource.hours)));
        }
        lines.push_str("</li>");
    }
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Offline · Haven</title><style>{STYLE}</style></head><body>\
         <main><h1>You're offline</h1>\
         <p>Haven can't be reached from this device just now. Nothing you sent is lost: \
         messages that were sent stay in your conversations, and anything still \
         waiting is sent when Haven opens again.</p>\
         <p><a href=\"/chat\">Try again</a></p>\
         <h2>If you need help now</h2><ul>{lines}</ul></main></body></html>"
    );
    Html(body).into_response()
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
padding:0 1rem}li{margin:.5rem 0}a{font-weight:600}";
