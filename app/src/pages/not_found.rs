//! Any path no route matches.

use leptos::prelude::*;
use leptos_meta::Title;

/// The 404 page; also sets the status code when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Haven"/>
        <main class="auth">
            <section class="card">
                <h1>"Page not found"</h1>
                <p><a class="link" href="/">"Back to Haven"</a></p>
            </section>
        </main>
    }
}
