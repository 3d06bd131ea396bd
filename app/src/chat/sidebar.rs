//! The list of the user's conversations: name, first line of the last message, its time,
//! unread count. Most recent first; updated live by the store.

use leptos::prelude::*;

use super::inbox;
use super::store::ChatStore;
use super::time::Clock;
use crate::protocol::{Role, Timestamp};

/// "Awaiting reply · 2 hours" (kept current); before hydration, since when.
#[component]
pub fn Waited(at: Timestamp) -> impl IntoView {
    let (hydrated, tick) = super::time::ticking(60);
    move || {
        tick.track();
        if hydrated.get() {
            let waited = super::time::relative(at);
            let waited = waited.strip_suffix(" ago").unwrap_or(&waited).to_owned();
            view! { "Awaiting reply · " {waited} }.into_any()
        } else {
            view! { "Awaiting reply since " <Clock at/> }.into_any()
        }
    }
}

/// The sidebar.
#[component]
pub fn Sidebar() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let me = store.me;
    let triage = expect_context::<Role>() == Role::Psychiatrist;
    let longest_first = RwSignal::new(false);
    // The psychiatrist's choice of order survives a reload (this browser, this account).
    #[cfg(feature = "hydrate")]
    {
        use super::preferences;
        let key = format!("haven.longest-first.{}", me.0);
        let key_read = key.clone();
        Effect::new(move |_| {
            if let Some(saved) = preferences::load(&key_read) {
                longest_first.set(saved == "1");
            }
        });
        Effect::watch(
            move || longest_first.get(),
            move |on, _, _| {
                preferences::save(&key, if *on { "1" } else { "0" });
                // The first page in that order: the longest waiting may be far down the
                // most-recent list, beyond what is loaded.
                let on = *on;
                leptos::task::spawn_local(async move {
                    if let Ok(page) = crate::api::chat::conversations(Some(on), None).await {
                        store.take_page(page, true);
                    }
                });
            },
            false,
        );
    }
    let loading_more = RwSignal::new(false);
    let show_more = move |_| {
        let Some(after) = store.more.get_untracked() else {
            return;
        };
        loading_more.set(true);
        let longest = longest_first.get_untracked();
        leptos::task::spawn_local(async move {
            if let Ok(page) = crate::api::chat::conversations(Some(longest), Some(after)).await {
                store.take_page(page, false);
            }
            loading_more.set(false);
        });
    };
    // A conversation opened but never written in is listed only while it is open: leaving
    // it must not leave an empty entry behind.
    let shown = move |c: &crate::protocol::ConversationSummary| {
        c.last_message.is_some() || c.group.is_some() || store.open.get() == Some(c.id)
    };
    let ordered = move || {
        let list = if longest_first.get() {
            store
                .conversations
                .with(|list| inbox::longest_waiting_first(list))
        } else {
            store.conversations.get()
        };
        list.into_iter().filter(|c| shown(c)).collect::<Vec<_>>()
    };
    view! {
        <aside class="sidebar" aria-label="Conversations">
            <h2>"Conversations"</h2>
            // Type-erased: the sidebar's view type is deep enough already.
            {if triage {
                view! { <super::group::NewGroup/> }.into_any()
            } else {
                view! { <super::group::Invitations/> }.into_any()
            }}
            {triage.then(|| view! {
                <label class="sort-toggle">
                    <input type="checkbox" prop:checked=move || longest_first.get()
                        on:change=move |ev| longest_first.set(event_target_checked(&ev))/>
                    " Longest waiting first"
                </label>
            })}
            <Show
                when=move || store.conversations.with(|list| list.iter().any(shown))
                fallback=|| view! { <p class="muted">"No conversations yet."</p> }
            >
                <ul class="conversation-list">
                    <For
                        each=ordered
                        key=|c| (
                            c.id,
                            c.last_message.as_ref().map(|m| m.id),
                            c.unread,
                            c.awaiting_since,
                            c.group.as_ref().map(|g| (g.students, g.closed_at.is_some())),
                        )
                        let:summary
                    >
                        {
                            let href = format!("/chat/{}", summary.id);
                            let current = move || store.open.get() == Some(summary.id);
                            let my_handle = summary.group.as_ref().map(|g| g.me.as_str());
                            let preview = summary.last_message.as_ref().map(|m| {
                                let first_line = m.body.lines().next().unwrap_or_default().to_owned();
                                let mine = m.sender_id == Some(me)
                                    || (my_handle.is_some()
                                        && m.author.as_ref().map(|a| a.handle.as_str()) == my_handle);
                                let prefix = match (&m.author, mine, m.sender_id) {
                                    (_, true, _) => "You: ".to_owned(),
                                    // In a group, who wrote it, by the name they chose.
                                    (Some(author), false, _) => format!("{}: ", author.name),
                                    (None, false, Some(_)) => String::new(),
                                    (None, false, None) => "Haven: ".to_owned(),
                                };
                                (format!("{prefix}{first_line}"), m.created_at)
                            });
                            let unread = summary.unread;
                            let peer_id = summary.peer.id;
                            let is_group = summary.group.is_some();
                            let online = move || !is_group && store.is_online(peer_id) == Some(true);
                            let name = match &summary.group {
                                Some(group) => group.name.clone(),
                                None => summary.peer.display_name.clone(),
                            };
                            let group_line = summary.group.as_ref().map(|g| {
                                let closed = if g.closed_at.is_some() { " · closed" } else { "" };
                                format!("Group · {} members{closed}", g.students + 1)
                            });
                            view! {
                                <li class="conversation" class:current=current class:group=is_group data-conversation=summary.id.0>
                                    <a href=href class="conversation-link">
                                        <span class="peer-name">
                                            <span class="dot" class:on=online aria-hidden="true"></span>
                                            " "
                                            {name}
                                        </span>
                                        {group_line.map(|line| view! { <span class="group-mark">{line}</span> })}
                                        {preview.map(|(text, at)| view! {
                                            <span class="preview">{text}</span>
                                            <span class="when"><Clock at/></span>
                                        })}
                                        {summary.awaiting_since.filter(|_| triage).map(|at| view! {
                                            <span class="awaiting"><Waited at/></span>
                                        })}
                                        {(unread > 0).then(|| view! {
                                            <span class="unread" aria-label=format!("{unread} unread")>{unread}</span>
                                        })}
                                    </a>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
            {move || store.more.with(Option::is_some).then(|| view! {
                <button type="button" class="link show-more" on:click=show_more
                    disabled=move || loading_more.get()>
                    {move || if loading_more.get() { "Loading…" } else { "Show more conversations" }}
                </button>
            })}
        </aside>
    }
}
