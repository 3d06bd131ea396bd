//! `/chat`: the signed-in user's conversations. For now the shell: a sidebar and an empty state.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::auth::{current_viewer, Logout};
use crate::protocol::{PublicUser, Role, Viewer};

/// Loads who is signed in; sends anyone else to the sign-in page.
#[component]
pub fn ChatPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_viewer());
    view! {
        <Title text="Haven"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Viewer::SignedIn(user)) => view! { <ChatShell user/> }.into_any(),
                    Ok(Viewer::SignedOut { login_path }) => view! { <Redirect path=login_path/> }.into_any(),
                    Err(e) => view! {
                        <main class="auth"><section class="card" role="alert">{e.to_string()}</section></main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The chat layout: header with the user and sign-out, sidebar, main pane.
#[component]
fn ChatShell(user: PublicUser) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let (sidebar_empty, main_empty) = match user.role {
        Role::Student => (
            "No conversations yet.",
            "When you start a conversation with a psychiatrist it will appear here. \
             The directory of psychiatrists is coming next.",
        ),
        Role::Psychiatrist => (
            "No conversations yet.",
            "Students who write to you will appear here.",
        ),
    };
    view! {
        <div class="chat-layout">
            <header class="topbar">
                <span class="brand small">"Haven"</span>
                <span class="whoami">
                    <span class="display-name">{user.display_name.clone()}</span>
                    <span class="role-badge">{user.role.as_str()}</span>
                </span>
                <ActionForm action=logout>
                    <button type="submit" class="button secondary small">"Sign out"</button>
                </ActionForm>
            </header>
            <aside class="sidebar" aria-label="Conversations">
                <h2>"Conversations"</h2>
                <p class="muted">{sidebar_empty}</p>
            </aside>
            <main class="pane empty-state">
                <h1>{format!("Welcome, {}", user.display_name)}</h1>
                <p>{main_empty}</p>
            </main>
        </div>
    }
}
