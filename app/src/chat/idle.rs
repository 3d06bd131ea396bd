//! The inactivity limit of a shared computer's or a psychiatrist's session, as the page
//! lives it: the person's activity (keys, pointer, wheel) keeps the session alive on the
//! server, a minute before the end a warning says so (any key dismisses it), and at the
//! end the page signs out and is replaced by the sign-in page, so that nothing of a
//! conversation stays on screen or in the back/forward history.
//!
//! The server decides: the session's record expires after the limit without a request
//! (`auth::session::apply_idle_limit`), and its sockets close. Activity travels over the
//! socket, which does not count, so the page tells the server with `still_here` (at most
//! every quarter of the limit, 30 s at most). The page's own deadline is measured from that
//! last call, so it never thinks the session alive after the server ended it.

use leptos::prelude::*;

use crate::protocol::{Role, UserId};

/// The warning shows this long before the end (half the limit if that is shorter).
#[cfg(feature = "hydrate")]
const WARN_BEFORE_MS: f64 = 60_000.0;
/// Activity is reported at most this often (a quarter of the limit if that is shorter).
#[cfg(feature = "hydrate")]
const REPORT_EVERY_MS: f64 = 30_000.0;

/// Where the automatic sign-out lands: the role's sign-in page, saying why.
pub fn signed_out_page(role: Role) -> String {
    format!("{}?signed_out=idle", role.login_path())
}

/// Watches for inactivity; renders the warning when it is near.
#[component]
pub fn IdleWatch(limit_secs: u64, role: Role, user: UserId) -> impl IntoView {
    let warning = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    watch(limit_secs, role, user, warning);
    #[cfg(not(feature = "hydrate"))]
    let _ = (limit_secs, role, user);
    view! {
        <Show when=move || warning.get()>
            <div class="idle-warning" role="alertdialog" aria-labelledby="idle-warning-text">
                <p id="idle-warning-text">
                    "You will be signed out in a minute, as nobody seems to be here. "
                    "Press any key to stay signed in."
                </p>
            </div>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
fn watch(limit_secs: u64, role: Role, user: UserId, warning: RwSignal<bool>) {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let limit_ms = limit_secs as f64 * 1000.0;
    let warn_before = WARN_BEFORE_MS.min(limit_ms / 2.0);
    let report_every = REPORT_EVERY_MS.min(limit_ms / 4.0);
    // This page's own request just now counted as activity on the server.
    let reported_at = Rc::new(Cell::new(js_sys::Date::now()));

    let on_activity = {
        let reported_at = reported_at.clone();
        move || {
            let now = js_sys::Date::now();
            let warned = warning.get_untracked();
            warning.set(false);
            if warned || now - reported_at.get() >= report_every {
                reported_at.set(now);
                leptos::task::spawn_local(async {
                    let _ = crate::api::auth::still_here().await;
                });
            }
        }
    };
    let listener = Closure::<dyn Fn()>::new(on_activity);
    for event in ["keydown", "pointerdown", "wheel", "touchstart"] {
        let _ =
            document().add_event_listener_with_callback(event, listener.as_ref().unchecked_ref());
    }
    listener.forget();

    let signing_out = Rc::new(Cell::new(false));
    let tick = move || {
        let idle = js_sys::Date::now() - reported_at.get();
        if idle >= limit_ms && !signing_out.replace(true) {
            super::outbox::clear(user);
            leptos::task::spawn_local(async move {
                let _ = crate::api::auth::logout().await;
                // Replaces this page in the history: Back does not show the conversation.
                let _ = window().location().replace(&signed_out_page(role));
            });
        } else if idle >= limit_ms - warn_before {
            warning.set(true);
        }
    };
    let _ = set_interval_with_handle(tick, Duration::from_secs(1));
}
