//! The client floor of a conversation page fed by its socket alone: no client-side router,
//! no server function, no `ActionForm` (each is a part of `client_floor.rs`).
//!
//! Not part of Haven. It measures what a client built that way (Leptos islands: the page
//! rendered on the server, only the live conversation hydrated, its data arriving over the
//! socket) would start from; `scripts/bench/client-floor.sh` reports it beside the floor of
//! Haven's client as it is built today (docs/benchmarks.md).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// One message as the wire carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    id: u64,
    body: String,
}

/// What the composer sends.
#[derive(Serialize)]
struct Send<'a> {
    body: &'a str,
}

#[wasm_bindgen]
extern "C" {
    type JsSocket;

    #[wasm_bindgen(js_name = io)]
    fn io_connect() -> JsSocket;

    #[wasm_bindgen(method)]
    fn on(this: &JsSocket, event: &str, listener: &js_sys::Function);

    #[wasm_bindgen(method, js_name = emitWithAck)]
    fn emit_with_ack(this: &JsSocket, event: &str, payload: &JsValue) -> js_sys::Promise;
}

/// A conversation: the messages that arrive live, and a composer.
#[component]
fn Conversation() -> impl IntoView {
    let live = RwSignal::new(Vec::<Message>::new());
    let socket = io_connect();
    let on_new = Closure::<dyn FnMut(JsValue)>::new(move |payload: JsValue| {
        let text = js_sys::JSON::stringify(&payload)
            .ok()
            .and_then(|text| text.as_string());
        if let Some(message) = text.and_then(|text| serde_json::from_str::<Message>(&text).ok()) {
            live.update(|live| live.push(message));
        }
    });
    socket.on("message:new", on_new.as_ref().unchecked_ref());
    on_new.forget();
    let draft = RwSignal::new(String::new());
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let payload = serde_json::to_string(&Send {
            body: &draft.read(),
        })
        .unwrap_or_default();
        let payload = js_sys::JSON::parse(&payload).unwrap_or(JsValue::NULL);
        let ack = socket.emit_with_ack("message:send", &payload);
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(ack).await;
        });
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
