//! `/`: what Haven is, and the ways in.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::crisis::CrisisNotice;

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let deleted = move || query.with(|q| q.get("account").as_deref() == Some("deleted"));
    view! {
        <Title text="Haven"/>
        <main class="auth">
            <section class="card">
                <Show when=deleted>
                    <p class="form-success" role="status">"Your account was deleted."</p>
                </Show>
                <h1 class="brand">"Haven"</h1>
                <p class="lede">
                    "A private place for students to write to the university's psychiatrists. "
                    "Write whenever you like; each psychiatrist answers during their office hours, "
                    "and you see their hours and how soon they usually reply before you write."
                </p>
                <nav class="stack" aria-label="Get started">
                    <a class="button" href="/register">"Create a student account"</a>
                    <a class="button secondary" href="/login/student">"Student sign in"</a>
                    <a class="link" href="/login/psychiatrist">"Staff sign in"</a>
                </nav>
            </section>
        </main>
        <CrisisNotice/>
    }
}
