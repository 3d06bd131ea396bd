#![recursion_limit = "256"]
//! Browser entry point: hydrates the server-rendered page.

use leptos::prelude::document;
// The islands are `#[wasm_bindgen]` exports of `app`: linked in through this use.
#[allow(unused_imports)]
use app::*;

/// Called by the generated JS loader once the WASM module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(not(feature = "islands"))]
    {
        leptos::mount::hydrate_body(app::App);
        // Reached only when hydration succeeded: marks the page interactive (tests wait for it).
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    }
    #[cfg(feature = "islands")]
    hydrate_islands();
}

#[cfg(feature = "islands")]
fn hydrate_islands() {
    // Without a client router nobody follows a server function's redirect (sign-out's, a
    // new conversation's, a new account's): the browser loads the page it names.
    let _ = leptos::server_fn::redirect::set_redirect_hook(app::chat::go);
    leptos::mount::hydrate_islands();
    // Leptos' loader hydrates the islands right after this returns, each in a microtask:
    // a zero timeout runs once they all have, and marks the page interactive (tests wait
    // for it).
    leptos::prelude::set_timeout(
        || {
            if let Some(root) = document().document_element() {
                let _ = root.set_attribute("data-hydrated", "");
            }
        },
        std::time::Duration::ZERO,
    );
}
