//! The browser's Socket.IO connection: the official socket.io-client (loaded as
//! `/vendor/socket.io-<version>.min.js`, global `io`) driven from Rust. All state stays in Rust; this
//! module only binds the few calls Haven makes.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect, JSON};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::protocol::events::{ClientEvent, ServerEvent};
use crate::protocol::{Ack, HandshakeAuth, MessageId, Timestamp};

#[wasm_bindgen]
extern "C" {
    /// A socket.io-client `Socket`.
    #[derive(Clone)]
    pub type JsSocket;

    #[wasm_bindgen(js_name = io)]
    fn io_connect(options: &JsValue) -> JsSocket;

    #[wasm_bindgen(method)]
    fn on(this: &JsSocket, event: &str, listener: &Function);

    #[wasm_bindgen(method, js_name = connect)]
    fn open(this: &JsSocket);

    #[wasm_bindgen(method, js_name = disconnect)]
    fn close(this: &JsSocket);

    #[wasm_bindgen(method, js_name = emitWithAck)]
    fn emit_with_ack(this: &JsSocket, event: &str, payload: &JsValue) -> Promise;

    /// The socket's Manager (reconnection events live there).
    #[wasm_bindgen(method, getter, js_name = io)]
    fn manager(this: &JsSocket) -> JsManager;

    pub type JsManager;

    #[wasm_bindgen(method, js_name = on)]
    fn on_manager(this: &JsManager, event: &str, listener: &Function);
}

/// Milliseconds before an unanswered emit is sent again.
const ACK_TIMEOUT_MS: u32 = 5_000;
/// Resends before an emit is given up (the server dedupes them by `clientId`).
const RETRIES: u32 = 4;

fn to_js<T: Serialize>(value: &T) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|text| JSON::parse(&text).ok())
        .unwrap_or(JsValue::NULL)
}

/// Reads a JS value into a Rust type through JSON (payloads are small).
pub fn from_js<T: DeserializeOwned>(value: &JsValue) -> Option<T> {
    let text = JSON::stringify(value).ok()?.as_string()?;
    crate::protocol::json::from_text(&text).ok()
}

/// One connection for this tab. Listeners live as long as the page.
#[derive(Clone)]
pub struct Socket {
    inner: JsSocket,
}

impl Socket {
    /// Connects to this site. `last_seen` and `presence_since` are read at every
    /// (re)connect and sent as `auth.lastSeenId` and `auth.presenceSince`, so the server
    /// replays what this tab missed and says who went offline meanwhile.
    pub fn connect(
        last_seen: Rc<Cell<MessageId>>,
        presence_since: Rc<Cell<Option<Timestamp>>>,
    ) -> Option<Socket> {
        let options = Object::new();
        let auth = Closure::<dyn Fn(Function)>::new(move |callback: Function| {
            let auth = HandshakeAuth {
                last_seen_id: Some(last_seen.get()),
                presence_since: presence_since.get(),
            };
            let _ = callback.call1(&JsValue::NULL, &to_js(&auth));
        });
        let _ = Reflect::set(&options, &"auth".into(), auth.as_ref());
        auth.forget();
        let _ = Reflect::set(&options, &"ackTimeout".into(), &ACK_TIMEOUT_MS.into());
        let _ = Reflect::set(&options, &"retries".into(), &RETRIES.into());
        // WebSocket first: live two round trips sooner than socket.io's default (polling,
        // then an upgrade), which matters most on a slow link (docs/decisions.md). Polling
        // stays the fallback where a WebSocket cannot open.
        let transports = js_sys::Array::of2(&"websocket".into(), &"polling".into());
        let _ = Reflect::set(&options, &"transports".into(), &transports);
        let _ = Reflect::set(&options, &"tryAllTransports".into(), &true.into());
        // `io` is missing if the vendored script failed to load: stay a plain page then.
        let global = js_sys::global();
        if !Reflect::has(&global, &"io".into()).unwrap_or(false) {
            return None;
        }
        Some(Socket {
            inner: io_connect(&options),
        })
    }

    /// Closes the connection and opens a new one at once (its handshake catches up).
    pub fn reconnect(&self) {
        self.inner.close();
        self.inner.open();
    }

    /// Opens the connection again after a refused handshake (socket.io-client does not
    /// retry those by itself).
    pub fn retry(&self) {
        self.inner.open();
    }

    /// Calls `handler` with each `E` the server sends (a payload that does not decode is
    /// dropped: it is not one of this build's).
    pub fn on<E: ServerEvent>(&self, mut handler: impl FnMut(E::Payload) + 'static) {
        self.on_reserved(E::NAME, move |payload| {
            if let Some(payload) = from_js::<E::Payload>(&payload) {
                handler(payload);
            }
        });
    }

    /// Calls `handler` on one of socket.io's own events (`connect`, `disconnect`,
    /// `connect_error`), with its argument as socket.io gives it.
    pub fn on_reserved(&self, event: &str, handler: impl FnMut(JsValue) + 'static) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(handler);
        self.inner.on(event, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    /// Calls `handler` on a Manager event (`reconnect_attempt`, …).
    pub fn on_manager(&self, event: &str, handler: impl FnMut(JsValue) + 'static) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(handler);
        self.inner
            .manager()
            .on_manager(event, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    /// Emits `E` and waits for its ack (socket.io-client resends on timeout, up to
    /// [`RETRIES`] times). `None` if no ack came at all.
    pub async fn call<E: ClientEvent>(&self, payload: &E::Payload) -> Option<Ack<E::Ack>> {
        let answer = JsFuture::from(self.inner.emit_with_ack(E::NAME, &to_js(payload)))
            .await
            .ok()?;
        from_js(&answer)
    }
}

/// A random UUID v4 (the composer's `clientId`), from the browser's CSPRNG. Works on plain
/// HTTP too, unlike `crypto.randomUUID`.
pub fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
