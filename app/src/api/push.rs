//! Notifications on this device (Web Push): what the settings page may offer, and the
//! device's subscription handed to the server or taken back (docs/protocol.md).

use leptos::prelude::*;

use crate::protocol::{AckError, PushOffer};

#[cfg(feature = "ssr")]
fn backend() -> Result<(crate::backend::SharedPushBackend, http::request::Parts), AckError> {
    let internal = || AckError::new(crate::error::ErrorCode::Internal, "internal error");
    let backend = use_context::<crate::backend::SharedPushBackend>().ok_or_else(internal)?;
    let parts = use_context::<http::request::Parts>().ok_or_else(internal)?;
    Ok((backend, parts))
}

/// Whether this session may turn notifications on here, and the key to subscribe with.
#[server(prefix = "/api/form", endpoint = "push_offer")]
pub async fn load_push_offer() -> Result<PushOffer, AckError> {
    let (backend, req) = backend()?;
    backend.offer(&req).await
}

/// Keeps this device's subscription (`PushSubscription.endpoint` and `keys`) with its
/// notification setting (`words`: `private` or `names`).
#[server(prefix = "/api/form", endpoint = "push_subscribe")]
pub async fn push_subscribe(
    endpoint: String,
    p256dh: String,
    auth: String,
    words: String,
    after_hours: Option<bool>,
) -> Result<(), AckError> {
    let (backend, req) = backend()?;
    let form = crate::backend::PushSubscriptionForm {
        endpoint,
        p256dh,
        auth,
        words,
        after_hours: after_hours.unwrap_or(false),
    };
    backend.subscribe(&req, form).await
}

/// Forgets this device's subscription: no more notifications here.
#[server(prefix = "/api/form", endpoint = "push_unsubscribe")]
pub async fn push_unsubscribe(endpoint: String) -> Result<(), AckError> {
    let (backend, req) = backend()?;
    backend.unsubscribe(&req, endpoint).await
}
