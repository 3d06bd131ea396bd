//! The message for a whole form (for example "Incorrect username or password.").

use leptos::prelude::*;

/// Shows `message` as an alert, or nothing.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="form-error" role="alert">
            {move || message.get()}
        </div>
    }
}
