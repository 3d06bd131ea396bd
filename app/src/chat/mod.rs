//! The chat screens: layout (sidebar, connection banner), the directory, a conversation,
//! the composer; their shared state, and (in the browser) the live socket.

pub mod composer;
pub mod conversation;
pub mod directory;
pub mod layout;
#[cfg(feature = "hydrate")]
pub mod live;
pub mod sidebar;
#[cfg(feature = "hydrate")]
pub mod socket;
pub mod store;
pub mod time;
