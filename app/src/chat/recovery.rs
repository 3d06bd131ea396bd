//! `/chat/recovery-code`: a new recovery code, shown after registration, after a recovery
//! (each code works once) and when the student asks for a new one in Settings. It stays
//! here until the student says they saved it; then it is gone for good.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::settings::SETTINGS_PAGE;
use crate::api::auth::{pending_recovery_code, RecoveryCodeSaved};
use crate::components::action_form::ActionForm;
use crate::protocol::json::resource;

/// The recovery code screen.
#[component]
pub fn RecoveryCodePane() -> impl IntoView {
    let code = resource(|| (), |_| pending_recovery_code());
    view! {
        <Title text="Your recovery code · Haven"/>
        <Suspense fallback=|| view! { <section class="pane"><p class="muted">"Loading…"</p></section> }>
            {move || Suspend::new(async move {
                match code.await {
                    Ok(Some(code)) => view! { <ShowCode code/> }.into_any(),
                    Ok(None) => view! {
                        <section class="pane recovery" aria-labelledby="recovery-title">
                            <h1 id="recovery-title">"Your recovery code"</h1>
                            <p>
                                "A recovery code is shown only once, when it is made. If you have lost yours, "
                                <A href=SETTINGS_PAGE attr:class="link">"make a new one in Settings"</A>
                                "."
                            </p>
                        </section>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <section class="pane empty-state" role="alert"><p>{e.to_string()}</p></section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ShowCode(code: String) -> impl IntoView {
    let saved = ServerAction::<RecoveryCodeSaved>::new();
    view! {
        <section class="pane recovery" aria-labelledby="recovery-title">
            <h1 id="recovery-title">"Save your recovery code"</h1>
            <p>
                "Haven asks for no e-mail address, so if you forget your password this code is "
                "the only way back into your account. Write it down or keep it in your password "
                "manager, somewhere only you can reach."
            </p>
            <p class="recovery-code"><code id="recovery-code">{code}</code></p>
            <p class="muted">
                "It works once: when you use it, Haven gives you a new one. Anyone with your "
                "username and this code can set a new password, so keep it private. On a shared "
                "computer, write it down rather than downloading it."
            </p>
            <p class="downloads">
                <a class="button secondary" href="/account/recovery-code.txt" download="haven-recovery-code.txt">
                    "Download as a text file"
                </a>
            </p>
            <ActionForm action=saved>
                <button type="submit" class="button" disabled=move || saved.pending().get()>
                    "I have saved it, continue"
                </button>
            </ActionForm>
        </section>
    }
}
