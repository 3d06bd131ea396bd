//! The chat screens: layout (sidebar, connection banner), the directory, a conversation,
//! the composer; their state (plain reducers: `timeline`, `inbox`, `roster`; signals over
//! them: `store`), and (in the browser) the live socket.

pub mod availability;
pub mod composer;
pub mod conversation;
pub mod directory;
pub mod group;
pub mod idle;
pub mod inbox;
pub mod layout;
#[cfg(feature = "hydrate")]
pub mod live;
pub mod notice_text;
pub mod notifications;
pub mod outbox;
pub mod preferences;
pub mod push;
pub mod recovery;
pub mod roster;
pub mod settings;
pub mod sidebar;
#[cfg(feature = "hydrate")]
pub mod socket;
pub mod store;
pub mod time;
pub mod timeline;

/// Opens another screen with a page load, which the server renders. An islands page runs no
/// client router (`islands`, docs/decisions.md); today's client does the same, so that both
/// behave alike.
#[cfg(feature = "hydrate")]
pub fn go(path: &str) {
    let _ = leptos::prelude::window().location().set_href(path);
}
