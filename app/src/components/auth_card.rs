//! The frame every account page (sign-in, registration, recovery) shares.

use leptos::prelude::*;

use super::crisis::CrisisNotice;

/// Haven's name, the page's heading and content on a card, and the crisis notice below.
#[component]
pub fn AuthCard(
    /// The page's heading.
    heading: &'static str,
    /// What the card holds under the heading.
    children: Children,
) -> impl IntoView {
    view! {
        <main class="auth">
            <section class="card">
                <p class="brand small">"Haven"</p>
                <h1>{heading}</h1>
                {children()}
            </section>
        </main>
        <CrisisNotice/>
    }
}
