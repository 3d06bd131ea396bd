//! Small choices a person makes in this browser (the notification setting, the sidebar's
//! order), kept in `localStorage` under a key that names the account. Never message text.

/// The stored value under `key`, if any.
#[cfg(feature = "hydrate")]
pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Stores `value` under `key` (a browser that refuses is not worth failing over).
#[cfg(feature = "hydrate")]
pub fn save(key: &str, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(key, value);
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().local_storage().ok().flatten()
}
