//! `/chat` for a student: the psychiatrists they can write to. For a psychiatrist: who will
//! appear here.

use leptos::prelude::*;

use super::store::ChatStore;
use crate::api::chat::{directory, StartConversation};
use crate::protocol::{Person, Role};

/// The chat home.
#[component]
pub fn ChatHome() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let role = expect_context::<Role>();
    store.open.set(None);
    let title = move || store.title("Haven");
    let title = view! { <leptos_meta::Title text=title/> };
    let body = match role {
        Role::Student => view! { <Directory/> }.into_any(),
        Role::Psychiatrist => view! {
            <section class="pane empty-state">
                <h1>"Your conversations"</h1>
                <p>"Students who write to you will appear on the left."</p>
            </section>
        }
        .into_any(),
    };
    view! { {title} {body} }
}

#[component]
fn Directory() -> impl IntoView {
    let people = Resource::new(|| (), |_| directory());
    view! {
        <section class="pane directory" aria-labelledby="directory-title">
            <h1 id="directory-title">"Talk to a psychiatrist"</h1>
            <p class="lede">"Choose someone to write to. Only they will see your conversation."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No psychiatrists yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="people">
                                {list.into_iter().map(|person| view! { <PersonCard person/> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(e) => view! { <p role="alert">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PersonCard(person: Person) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let start = ServerAction::<StartConversation>::new();
    let label = format!("Write to {}", person.display_name);
    let id = person.id;
    view! {
        <li class="person">
            <div>
                <p class="peer-name">{person.display_name.clone()}</p>
                <p class="muted">{person.bio.clone()}</p>
                <Status online=Signal::derive(move || store.is_online(id))/>
            </div>
            <ActionForm action=start>
                <input type="hidden" name="peer_id" value=person.id.0/>
                <button type="submit" class="button small" aria-label=label>"Write"</button>
            </ActionForm>
        </li>
    }
}

/// "online" with a green dot, "offline", or nothing while not known yet (before the socket's
/// first snapshot).
#[component]
pub fn Status(#[prop(into)] online: Signal<Option<bool>>) -> impl IntoView {
    move || {
        online.get().map(|online| {
            let text = if online { "online" } else { "offline" };
            view! {
                <p class="status-line" data-online=online.to_string()>
                    <span class="dot" class:on=online aria-hidden="true"></span>
                    {text}
                </p>
            }
        })
    }
}
