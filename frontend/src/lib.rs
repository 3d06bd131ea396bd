#![recursion_limit = "256"]
//! Browser entry point: hydrates the server-rendered page.

use leptos::prelude::document;

/// Called by the generated JS loader once the WASM module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Reached only when hydration succeeded: marks the page interactive (tests wait for it).
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
