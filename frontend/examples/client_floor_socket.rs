//! The client floor of a conversation page fed by its socket alone: no client-side router,
//! no server function, no `ActionForm` (each is a part of `client_floor.rs`).
//!
//! Not part of Haven. It measures what a client built that way (Leptos islands: the page
//! rendered on the server, only the live conversation hydrated, its data arriving over the
//! socket) would start from; `scripts/bench/client-floor.sh` reports it beside the floor of
//! Haven's client as it is built today (docs/benchmarks.md).

use leptos::prelude::*;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[path = "floor/socket.rs"]
mod socket;
use socket::Message;

/// What the composer sends.
#[derive(Serialize)]
struct Send<'a> {
    body: &'a str,
}

/// A conversation: the messages that arrive live, and a composer.
#[component]
fn Conversation() -> impl IntoView {
    let live = RwSignal::new(Vec::<Message>::new());
    let socket = socket::connect(live);
    let draft = RwSignal::new(String::new());
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let payload = serde_json::to_string(&Send {
            body: &draft.read(),
        })
        .unwrap_or_default();
        socket::send(&socket, &payload);
        draft.set(String::new());
    };
    view! {
        <ol>
            <For each=move || live.get() key=|m| m.id let:m>
                <li>{m.body}</li>
            </For>
        </ol>
        <form on:submit=send>
            <textarea prop:value=draft on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
            <button>"Send"</button>
        </form>
    }
}

/// Called by the generated JS loader once the WASM module is instantiated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(Conversation);
}
