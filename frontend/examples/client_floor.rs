#![recursion_limit = "256"]
//! The client floor: the least WASM a Leptos 0.8 page like Haven's conversation can be.
//!
//! Not part of Haven. It is built with the same crates, patches, flags and profile as the
//! real client (`frontend`), and does only what the conversation page cannot do without:
//! hydrate a server-rendered page under a router with a parameter, load its data from a
//! server function (JSON), show a live list, send from a form that also works as a plain
//! form (Haven's `ActionForm`, the one piece of Haven's it uses), and talk to socket.io-client
//! through wasm-bindgen with JSON payloads.
//! `scripts/bench/client-floor.sh` builds it and reports its size beside Haven's, as the
//! socket floor (`server/examples/socket_floor.rs`) stands beside Haven's CPU: what is left
//! above it is Haven's own client (docs/benchmarks.md).

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    hooks::use_params_map,
    path,
};
use wasm_bindgen::prelude::*;

// Haven's form (it reads the fields without serde_qs), as Haven's pages use it.
use app::components::action_form::ActionForm;

#[path = "floor/socket.rs"]
mod socket;
use socket::Message;

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
    let socket = socket::connect(live);
    let draft = RwSignal::new(String::new());
    let send_live = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let payload = serde_json::json!({ "conversationId": id(), "body": draft.get() });
        socket::send(&socket, &payload.to_string());
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
