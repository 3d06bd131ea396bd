//! Haven's `<ActionForm>`: a plain `<form method="post">` to a server function that, once the
//! WASM runs, dispatches its action instead of leaving the page.
//!
//! It does what Leptos' `ActionForm` does, but reads the fields with
//! [`protocol::form`](crate::protocol::form) instead of serde_qs (Haven's release WASM 26 KB
//! gzip smaller; issue 29, docs/benchmarks.md). Imported by name, it takes the place of the
//! prelude's.

use leptos::prelude::*;
use leptos::server_fn::{client::Client, codec::PostUrl, Http, ServerFn};
use serde::de::DeserializeOwned;

/// A form that posts to `action`'s server function: before the WASM (or without it) the
/// browser posts it; afterwards a submit dispatches `action` with the form's fields.
#[component]
pub fn ActionForm<ServFn, OutputProtocol>(
    /// The action the form dispatches.
    action: ServerAction<ServFn>,
    /// The form's fields and buttons.
    children: Children,
) -> impl IntoView
where
    ServFn: DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, OutputProtocol>>
        + Clone
        + Send
        + Sync
        + 'static,
    ServFn::Output: Send + Sync + 'static,
    ServFn::Error: Send + Sync + 'static,
    ServFn::Client: Client<ServFn::Error>,
{
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        // Another handler (`on:submit` where the form is used) may have taken the submit.
        if ev.default_prevented() {
            return;
        }
        // Fields that do not fit the function would be a bug of Haven's: the browser then
        // posts the form as it does without the WASM, and the server answers it.
        #[cfg(feature = "hydrate")]
        if let Some(input) = read::<ServFn>(&ev) {
            ev.prevent_default();
            action.dispatch(input);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, action);
    };
    view! {
        <form action=ServFn::url() method="post" on:submit=on_submit>
            {children()}
        </form>
    }
}

/// The arguments of `ServFn` from the submitted form (with the button that submitted it).
#[cfg(feature = "hydrate")]
fn read<ServFn: DeserializeOwned>(ev: &leptos::ev::SubmitEvent) -> Option<ServFn> {
    let data = leptos::form::form_data_from_event(ev).ok()?;
    let fields = js_sys::try_iter(&data).ok()??.filter_map(|entry| {
        let entry: js_sys::Array = wasm_bindgen::JsCast::dyn_into(entry.ok()?).ok()?;
        Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
    });
    crate::protocol::form::from_fields(fields).ok()
}
