//! Writing a message: Enter sends, Shift+Enter is a new line, a counter near the limit. In
//! the browser it sends over the socket (optimistic); before hydration it is a plain form.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::store::ChatStore;
use crate::api::chat::PostMessage;
use crate::protocol::{ConversationId, Unsent, MAX_BODY_CHARS};

/// Show the counter from this many characters on.
const COUNTER_FROM: usize = MAX_BODY_CHARS - 500;

/// The composer of one conversation. `client_id` is the server-made id used by the plain
/// form post; in the browser each message gets a fresh one. `unsent` is a plain-form
/// message the server refused: it comes back in the box with the reason.
#[component]
pub fn Composer(
    conversation: ConversationId,
    client_id: String,
    unsent: Option<Unsent>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    #[cfg(feature = "hydrate")]
    let live = expect_context::<super::live::LiveHandle>();
    let text = RwSignal::new(String::new());
    let length = Memo::new(move |_| text.with(|t| t.trim().chars().count()));
    let too_long = move || length.get() > MAX_BODY_CHARS;
    // A pasted control character (a vertical tab from a word processor, a terminal's
    // escape) would be refused by the server: say so here, where it can be removed.
    let control = Memo::new(move |_| {
        text.with(|t| {
            crate::validation::refused_in_text(&crate::validation::normalize_line_breaks(t.trim()))
        })
    });
    let blocked = move || too_long() || control.get().is_some();
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let (kept, refusal) = unsent.map(|u| (u.body, Some(u.error))).unwrap_or_default();
    let refusal = RwSignal::new(refusal);

    // Once the page is live: whatever was typed before the WASM arrived stays and counts,
    // and the cursor is in the composer (opening a conversation is for writing in it).
    Effect::new(move |_| {
        if let Some(el) = textarea.get() {
            text.set(el.value());
            // After the frame: a screen rendered by client-side navigation is attached to
            // the document only then, and a detached element cannot take focus.
            request_animation_frame(move || {
                let _ = el.focus();
            });
        }
    });

    let submit = move || {
        let body = text.get_untracked().trim().to_owned();
        if body.is_empty() || blocked() {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let client_id = super::socket::new_client_id();
            store.add_pending(client_id.clone(), body.clone());
            live.stopped_typing(conversation);
            live.send(store, conversation, client_id, body);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (store, conversation);
        text.set(String::new());
        refusal.set(None);
        if let Some(el) = textarea.get_untracked() {
            el.set_value("");
        }
    };

    let post_path = <PostMessage as ServerFn>::PATH;
    view! {
        <form
            class="composer"
            method="post"
            action=post_path
            on:submit=move |ev| {
                ev.prevent_default();
                submit();
            }
        >
            <input type="hidden" name="conversation_id" value=conversation.0/>
            <input type="hidden" name="client_id" value=client_id/>
            <label for="composer-body" class="visually-hidden">"Message"</label>
            // Above the box, across the whole composer; takes no room while empty.
            <p id="composer-error" class="composer-error" role="alert">{move || refusal.get()}</p>
            <textarea
                id="composer-body"
                name="body"
                rows="2"
                placeholder="Write a message…"
                required=true
                node_ref=textarea
                aria-describedby="composer-counter composer-error"
                aria-invalid=move || if blocked() { "true" } else { "false" }
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    #[cfg(feature = "hydrate")]
                    live.typed(conversation);
                }
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            >{kept}</textarea>
            <div class="composer-side">
                <p id="composer-counter" class="counter" class:over=blocked aria-live="polite">
                    {move || {
                        let n = length.get();
                        if let Some(c) = control.get() {
                            format!(
                                "Contains an invisible control character ({}): remove it to send",
                                crate::validation::describe_refused(c)
                            )
                        } else if n > MAX_BODY_CHARS {
                            format!("Too long: {n} / {MAX_BODY_CHARS} characters")
                        } else if n >= COUNTER_FROM {
                            format!("{n} / {MAX_BODY_CHARS}")
                        } else {
                            String::new()
                        }
                    }}
                </p>
                <button type="submit" class="button small" disabled=blocked>"Send"</button>
            </div>
        </form>
    }
}
