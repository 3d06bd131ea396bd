//! The message for a whole form (for example "Incorrect username or password.").

use leptos::prelude::*;

use crate::error::{AuthError, Field};

/// Shows `message` as an alert, or nothing.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="form-error" role="alert">
            {move || message.get()}
        </div>
    }
}

/// The form-level message of a server error: field errors (`Invalid`) are shown at their
/// fields instead, so they give none here.
pub fn form_level(
    error: impl Fn() -> Option<AuthError> + Send + Sync + 'static,
) -> Signal<Option<String>> {
    Signal::derive(move || match error() {
        Some(AuthError::Invalid(_)) | None => None,
        Some(other) => Some(other.to_string()),
    })
}

/// A field's message: the browser's own `check` once the field has been left, otherwise
/// the server's message for `which`.
pub fn field_message(
    value: RwSignal<String>,
    touched: RwSignal<bool>,
    check: fn(&str) -> Result<(), String>,
    which: Field,
    error: impl Fn() -> Option<AuthError> + Send + Sync + 'static,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        if touched.get() {
            if let Err(message) = value.with(|v| check(v)) {
                return Some(message);
            }
        }
        error().and_then(|e| e.field_message(which))
    })
}
