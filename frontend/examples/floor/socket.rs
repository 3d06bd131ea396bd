//! What both client floors share: one message as the wire carries it, and socket.io-client
//! bound through wasm-bindgen as Haven's `chat::socket` binds it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// One message as the wire carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: u64,
    pub body: String,
}

#[wasm_bindgen]
extern "C" {
    /// A socket.io-client `Socket`.
    pub type JsSocket;

    #[wasm_bindgen(js_name = io)]
    fn io_connect() -> JsSocket;

    #[wasm_bindgen(method)]
    fn on(this: &JsSocket, event: &str, listener: &js_sys::Function);

    #[wasm_bindgen(method, js_name = emitWithAck)]
    fn emit_with_ack(this: &JsSocket, event: &str, payload: &JsValue) -> js_sys::Promise;
}

/// Connects, and pushes each `message:new` onto `live`.
pub fn connect(live: RwSignal<Vec<Message>>) -> JsSocket {
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
    socket
}

/// Emits `message:send` with `payload` (JSON text) and waits for its ack.
pub fn send(socket: &JsSocket, payload: &str) {
    let payload = js_sys::JSON::parse(payload).unwrap_or(JsValue::NULL);
    let ack = socket.emit_with_ack("message:send", &payload);
    leptos::task::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(ack).await;
    });
}
