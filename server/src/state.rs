//! The state every HTTP handler can extract.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::service::Accounts;
use crate::chat::Chat;
use crate::store::Db;

/// How cookies the server sets are marked.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// Add `Secure` (HTTPS only).
    pub secure: bool,
}

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub accounts: Arc<Accounts>,
    pub chat: Arc<Chat>,
    /// Notifications between visits (Web Push).
    pub push: Arc<crate::push::Push>,
    pub cookies: CookiePolicy,
    pub db: Db,
    /// The crisis resources every page shows.
    pub crisis: app::protocol::CrisisList,
    /// With several nodes: whether this one reaches Redis.
    pub redis: Option<Arc<crate::cluster::Health>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Arc<Accounts> {
    fn from_ref(state: &AppState) -> Self {
        state.accounts.clone()
    }
}

impl FromRef<AppState> for CookiePolicy {
    fn from_ref(state: &AppState) -> Self {
        state.cookies
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for Arc<Chat> {
    fn from_ref(state: &AppState) -> Self {
        state.chat.clone()
    }
}

impl FromRef<AppState> for app::protocol::CrisisList {
    fn from_ref(state: &AppState) -> Self {
        state.crisis.clone()
    }
}
