#![recursion_limit = "256"]
//! Haven's user interface and the types it shares with the server.
//!
//! Compiled twice: with `ssr` into the server (rendering, server functions) and with
//! `hydrate` into the browser's WASM.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod chat;
pub mod components;
pub mod error;
pub mod pages;
pub mod protocol;
pub mod validation;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};

use chat::{
    availability::AvailabilityPane, conversation::ConversationPane, directory::ChatHome,
    layout::ChatLayout, recovery::RecoveryCodePane, settings::SettingsPane,
};
use pages::{
    help::HelpPage, home::HomePage, login::LoginPage, not_found::NotFound, recover::RecoverPage,
    register::RegisterPage,
};
use protocol::Role;

/// The official socket.io-client, copied by `scripts/setup.sh` from npm under a name with its
/// version (`package.json` pins it), so browsers may cache it for good.
pub const SOCKET_IO_SCRIPT: &str = "/vendor/socket.io-4.8.4.min.js";

/// The HTML document around the app, rendered on the server only. The stylesheet, script
/// and WASM names carry a content hash (cargo-leptos `hash-files`) when the build made one.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="theme-color" content="#2f6b55"/>
                // Installable (public/manifest.webmanifest); the service worker is registered
                // by public/install.js, which asks nothing of the person.
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="icon" href="/icons/haven-192.png" type="image/png"/>
                <link rel="apple-touch-icon" href="/icons/haven-192.png"/>
                <script src="/install.js" defer></script>
                <AutoReload options=options.clone()/>
                // socket.io-client (npm), copied here by scripts/setup.sh; before the WASM.
                <script src=SOCKET_IO_SCRIPT defer></script>
                // Enter sends and a conversation opens at its newest message before the
                // WASM arrives (public/early.js; the app takes over once hydrated).
                <script src="/early.js" defer></script>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=cfg!(feature = "islands")/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The routes. Every page renders completely on the server (`SsrMode::Async`) so that it
/// reads right, and its forms work, before the WASM arrives.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::crisis::provide_crisis_resources();
    view! {
        <Title text="Haven"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                <Route path=path!("/help") view=HelpPage ssr=SsrMode::Async/>
                <Route path=path!("/login/student") view=|| view! { <LoginPage role=Role::Student/> } ssr=SsrMode::Async/>
                <Route
                    path=path!("/login/psychiatrist")
                    view=|| view! { <LoginPage role=Role::Psychiatrist/> }
                    ssr=SsrMode::Async
                />
                <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async/>
                <Route path=path!("/recover") view=RecoverPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/chat") view=ChatLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=ChatHome ssr=SsrMode::Async/>
                    <Route path=path!("availability") view=AvailabilityPane ssr=SsrMode::Async/>
                    <Route path=path!("settings") view=SettingsPane ssr=SsrMode::Async/>
                    <Route path=path!("recovery-code") view=RecoveryCodePane ssr=SsrMode::Async/>
                    <Route path=path!(":id") view=ConversationPane ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
