//! A labelled text input with its message underneath.

use leptos::prelude::*;

/// One form field: label, input and the message that belongs to it. `value` follows what is
/// typed and `touched` turns true when the field loses focus, so a page can validate as the
/// person types (hydrated code only; without JavaScript the server's message shows instead).
#[component]
pub fn TextField(
    /// Visible label.
    label: &'static str,
    /// Form field name (also the element id, unless `id` is given).
    name: &'static str,
    /// The element id, where two forms of one page share a field name.
    #[prop(optional)]
    id: Option<&'static str>,
    /// The input's `type`.
    #[prop(default = "text")]
    kind: &'static str,
    /// The input's `autocomplete` hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Helper text shown while there is no error.
    #[prop(optional)]
    hint: &'static str,
    /// The message to show, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// What is typed.
    #[prop(optional)]
    value: Option<RwSignal<String>>,
    /// Whether the field has lost focus once.
    #[prop(optional)]
    touched: Option<RwSignal<bool>>,
    /// Extra attributes for native validation (kept in sync with the server's rules).
    #[prop(optional)]
    minlength: Option<usize>,
    #[prop(optional)] maxlength: Option<usize>,
    #[prop(optional)] pattern: Option<&'static str>,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    let message_id = format!("{id}-message");
    let has_error = move || error.with(Option::is_some);
    view! {
        <div class="field" class:field-invalid=has_error>
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=true
                minlength=minlength
                maxlength=maxlength
                pattern=pattern
                aria-describedby=message_id.clone()
                aria-invalid=move || if has_error() { "true" } else { "false" }
                on:input=move |ev| {
                    if let Some(value) = value {
                        value.set(event_target_value(&ev));
                    }
                }
                on:blur=move |_| {
                    if let Some(touched) = touched {
                        touched.set(true);
                    }
                }
            />
            <p id=message_id class="field-message" aria-live="polite">
                {move || match error.get() {
                    Some(message) => view! { <span class="field-error">{message}</span> }.into_any(),
                    None => view! { <span class="field-hint">{hint}</span> }.into_any(),
                }}
            </p>
        </div>
    }
}

/// A new password (registration, recovery), with the length rules the server applies.
#[component]
pub fn NewPasswordField(
    /// Visible label.
    label: &'static str,
    /// What is typed.
    value: RwSignal<String>,
    /// Whether the field has lost focus once.
    touched: RwSignal<bool>,
    /// The message to show, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <TextField
            label
            name="password"
            kind="password"
            autocomplete="new-password"
            hint="At least 10 characters."
            minlength=crate::validation::PASSWORD_MIN
            maxlength=crate::validation::PASSWORD_MAX
            value
            touched
            error
        />
    }
}

/// `true` once the page is hydrated: a form then sets `novalidate`, so that the field
/// messages above show instead of the browser's validation bubble.
pub fn live_form() -> Signal<bool> {
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    live.into()
}
