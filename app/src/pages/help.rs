//! `/help`: every crisis resource the service configured, public and readable without
//! JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::crisis::CrisisList;

/// The full list of crisis resources.
#[component]
pub fn HelpPage() -> impl IntoView {
    view! {
        <Title text="Urgent help · Haven"/>
        <main class="help">
            <p class="brand small"><a href="/">"Haven"</a></p>
            <h1>"If you need help now"</h1>
            <p class="lede">
                "Haven is not an emergency service. Psychiatrists read and answer messages during their office hours, "
                "so a message may wait until then. If you are in danger, or cannot wait, contact one of these now:"
            </p>
            <CrisisList/>
            <p><a class="link" href="/chat">"Back to your conversations"</a></p>
        </main>
    }
}
