#![recursion_limit = "256"]
//! The client floor: the least WASM a Leptos 0.8 page like Haven's conversation can be.
//!
//! Not part of Haven. It is built with the same crates, patches, flags and profile as the
//! real client (`frontend`), and does only what the conversation page cannot do without:
//! hydrate a server-rendered page under a router with a parameter, load its data from a
//! server function (JSON), show a live list, send from a form that also works as a plain
//! form (`ActionForm`), and talk to socket.io-client through wasm-bindgen with JSON payloads.
//! `scripts/bench/client-floor.sh` builds it and reports its size beside Haven's, as the
//! socket floor (`server/examples/socket_floor.rs`) stands beside Haven's CPU: what is left
//! above it is Haven's own client (docs/benchmarks.md).

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_params_map,
    path,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// One message as the wire carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    id: u64,
    body: String,
}

/// The page's data, loaded as Haven's pages load theirs.
#[server]
pub async fn history(conversation: u64) -> Result<Vec<Message>, ServerFnError> {
    let _ = conversation;
    Ok(Vec::new())
}

/// A form that posts without the WASM too.
#[server]
pub async fn send(conversation: u64, body: String) -> Result<(), ServerFnError> {
    let _ = (conversation, body);
    Ok(())
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

/// A conversation: its history, the messages that arrive live, and a composer.
#[component]
fn Conversation() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse().ok())
            .unwrap_or(0)
    };
    let page = Resource::new(id, history);
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
    let send_live = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let payload = serde_json::json!({ "conversationId": id(), "body": draft.get() });
        let payload = js_sys::JSON::parse(&payload.to_string()).unwrap_or(JsValue::NULL);
        let ack = socket.emit_with_ack("message:send", &payload);
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(ack).await;
        });
        draft.set(String::new());
    };
    let plain = ServerAction::<Send>::new();
    view! {
        <Suspense>
            <ol>
                {move || page.get().and_then(Result::ok).map(|history| {
                    history.into_iter().map(|m| view! { <li>{m.body}</li> }).collect_view()
                })}
                <For each=move || live.get() key=|m| m.id let:m>
                    <li>{m.body}</li>
                </For>
            </ol>
        </Suspense>
        <form on:submit=send_live>
            <textarea prop:value=draft on:input=move |ev| draft.set(event_target_value(&ev))></textarea>
            <button>"Send"</button>
        </form>
        <ActionForm action=plain>
            <input type="hidden" name="conversation" value=id/>
            <textarea name="body"></textarea>
            <button>"Send without the socket"</button>
        </ActionForm>
    }
}

/// The routes, as Haven's: a home page and a conversation by id.
#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| "Not found">
                <Route path=path!("/") view=|| view! { <a href="/chat/1">"Open"</a> }/>
                <Route path=path!("/chat/:id") view=Conversation/>
            </Routes>
        </Router>
    }
}

/// Called by the generated JS loader once the WASM module is instantiated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
