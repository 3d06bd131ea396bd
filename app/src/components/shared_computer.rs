//! The "This is a shared computer" box of the sign-in and recovery forms.

use leptos::prelude::*;

/// Checked, the session ends when the browser closes or after a few idle minutes, and the
/// browser keeps nothing of it (the server reads the form field `shared`).
#[component]
pub fn SharedComputerBox() -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" name="shared" value="yes"/>
            <span>
                "This is a shared computer"
                <span class="field-hint">
                    " — signs you out when the browser closes, or after a few minutes without activity"
                </span>
            </span>
        </label>
    }
}
