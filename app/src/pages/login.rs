//! `/login/student` and `/login/psychiatrist`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::auth::Login;
use crate::components::action_form::ActionForm;
use crate::components::{
    auth_card::AuthCard,
    field::{live_form, TextField},
    form_error::FormError,
    shared_computer::SharedComputerBox,
};
use crate::protocol::Role;

/// The sign-in page of one role. Works as a plain form post before hydration.
#[component]
pub fn LoginPage(role: Role) -> impl IntoView {
    // Signed out by the inactivity limit: say why, so it does not look like a fault.
    let idle = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get("signed_out").is_some_and(|v| v == "idle"));
    // Sent here from a chat page while signed out: go back there after signing in.
    let next = leptos_router::hooks::use_query_map()
        .with_untracked(|q| q.get("next"))
        .filter(|n| crate::api::auth::safe_next(n).is_some());
    let (heading, title, other) = match role {
        Role::Student => (
            "Student sign in",
            "Student sign in · Haven",
            view! {
                <p>"Forgot your password? " <A href="/recover" attr:class="link">"Use your recovery code"</A></p>
                <p>"New here? " <A href="/register" attr:class="link">"Create a student account"</A></p>
                <p>"University staff: " <A href="/login/psychiatrist" attr:class="link">"psychiatrist sign in"</A></p>
            }
            .into_any(),
        ),
        Role::Psychiatrist => (
            "Psychiatrist sign in",
            "Psychiatrist sign in · Haven",
            view! {
                <p>"Staff accounts are created by the service's administrator."</p>
                <p>"Student? " <A href="/login/student" attr:class="link">"Sign in here"</A></p>
            }
            .into_any(),
        ),
    };
    view! {
        <Title text=title/>
        <AuthCard heading=heading>
            {idle.then(|| view! {
                <p class="form-success" role="status">
                    "You were signed out after a while without activity, so nobody else could read your conversations."
                </p>
            })}
            <LoginForm role next/>
            <div class="aside">{other}</div>
        </AuthCard>
    }
}

/// The sign-in form: a plain form post before the WASM, then the action (a refusal is shown
/// without a page load, the fields kept).
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn LoginForm(role: Role, next: Option<String>) -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    });
    let no_field_error = Signal::derive(|| None::<String>);
    view! {
        // Once live, Haven's own field messages speak; the browser's bubble
        // would cover them (before that, native validation is all there is).
        <ActionForm action=action attr:novalidate=live_form()>
            <input type="hidden" name="role" value=role.as_str()/>
            {next.map(|next| view! { <input type="hidden" name="next" value=next/> })}
            <TextField label="Username" name="username" autocomplete="username" error=no_field_error/>
            <TextField
                label="Password"
                name="password"
                kind="password"
                autocomplete="current-password"
                error=no_field_error
            />
            <SharedComputerBox/>
            <FormError message=error/>
            <button type="submit" class="button" disabled=move || action.pending().get()>
                "Sign in"
            </button>
        </ActionForm>
    }
}
