//! The list of the user's conversations: name, first line of the last message, its time,
//! unread count. Most recent first; updated live by the store.

use leptos::prelude::*;
use leptos_router::components::A;

use super::store::ChatStore;
use super::time::Clock;

/// The sidebar.
#[component]
pub fn Sidebar() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.me;
    view! {
        <aside class="sidebar" aria-label="Conversations">
            <h2>"Conversations"</h2>
            <Show
                when=move || store.conversations.with(|list| !list.is_empty())
                fallback=|| view! { <p class="muted">"No conversations yet."</p> }
            >
                <ul class="conversation-list">
                    <For
                        each=move || store.conversations.get()
                        key=|c| (c.id, c.last_message.as_ref().map(|m| m.id), c.unread)
                        let:summary
                    >
                        {
                            let href = format!("/chat/{}", summary.id);
                            let current = move || store.open.get() == Some(summary.id);
                            let preview = summary.last_message.as_ref().map(|m| {
                                let first_line = m.body.lines().next().unwrap_or_default().to_owned();
                                let prefix = match m.sender_id {
                                    Some(sender) if sender == me => "You: ",
                                    Some(_) => "",
                                    None => "Haven: ",
                                };
                                (format!("{prefix}{first_line}"), m.created_at)
                            });
                            let unread = summary.unread;
                            let peer_id = summary.peer.id;
                            let online = move || store.is_online(peer_id) == Some(true);
                            view! {
                                <li class="conversation" class:current=current data-conversation=summary.id.0>
                                    <A href=href attr:class="conversation-link">
                                        <span class="peer-name">
                                            <span class="dot" class:on=online aria-hidden="true"></span>
                                            " "
                                            {summary.peer.display_name.clone()}
                                        </span>
                                        {preview.map(|(text, at)| view! {
                                            <span class="preview">{text}</span>
                                            <span class="when"><Clock at/></span>
                                        })}
                                        {(unread > 0).then(|| view! {
                                            <span class="unread" aria-label=format!("{unread} unread")>{unread}</span>
                                        })}
                                    </A>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
        </aside>
    }
}
