//! `/`: what Haven is, and the ways in.

use leptos::prelude::*;
use leptos_meta::Title;

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Haven"/>
        <main class="auth">
            <section class="card">
                <h1 class="brand">"Haven"</h1>
                <p class="lede">
                    "A private place for students to talk with the university's psychiatrists, any time of day."
                </p>
                <nav class="stack" aria-label="Get started">
                    <a class="button" href="/register">"Create a student account"</a>
                    <a class="button secondary" href="/login/student">"Student sign in"</a>
                    <a class="link" href="/login/psychiatrist">"Staff sign in"</a>
                </nav>
            </section>
        </main>
    }
}
