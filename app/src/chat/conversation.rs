//! `/chat/<id>`: one conversation. The newest 50 messages are rendered on the server; older
//! ones load when scrolling up; new ones keep the view at the bottom unless the reader has
//! scrolled up, in which case a "new messages" pill appears.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::composer::Composer;
use super::directory::{AvailabilityLines, Status};
use super::store::ChatStore;
use super::time::{day_of, Clock, DayLabel};
use super::timeline::{Delivery, Item};
use crate::api::chat::{conversation, ConversationView};
use crate::components::action_form::ActionForm;
use crate::protocol::json::{resource, Prop};
use crate::protocol::ConversationId;

/// Within this many pixels of the bottom counts as "at the bottom".
const STICKY_PX: i32 = 48;

/// The conversation screen.
#[component]
pub fn ConversationPane() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    // Back from a refused plain-form post: its text and reason are shown again.
    let unsent = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("unsent"));
    let page = resource(id, move |id| conversation(id, None, unsent.clone()));
    view! {
        <Suspense fallback=|| view! { <section class="pane"><p class="muted">"Loading…"</p></section> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(view) => view! { <Conversation view=Prop(view)/> }.into_any(),
                    Err(e) => view! {
                        <section class="pane empty-state" role="alert">
                            <h1>"This conversation isn't available"</h1>
                            <p>
                                {if e.code == crate::error::ErrorCode::ConversationNotFound {
                                    "It may have been deleted, or the link is not one of your conversations.".to_owned()
                                } else {
                                    e.message
                                }}
                            </p>
                            <p><a class="link" href="/chat">"Back to your conversations"</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The open conversation: an island inside the chat's, whose store it reads.
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn Conversation(view: Prop<ConversationView>) -> impl IntoView {
    let Prop(view) = view;
    let store = expect_context::<ChatStore>();
    #[cfg(feature = "hydrate")]
    let live = expect_context::<super::live::LiveHandle>();
    let ConversationView {
        id,
        peer,
        group,
        messages,
        peer_last_read_id,
        peer_read_at,
        client_id,
        unsent,
    } = view;
    let is_group = group.is_some();
    let group_name = group.as_ref().map(|g| g.group.name.clone());
    store.show(id, &messages, peer_last_read_id, peer_read_at, group);
    let more = RwSignal::new(messages.len() >= 50);
    let loading = RwSignal::new(false);
    let at_bottom = RwSignal::new(true);
    let pill = RwSignal::new(false);
    let list = NodeRef::<leptos::html::Ol>::new();

    let scroll_to_bottom = move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
            // On short screens (200% zoom, a phone's keyboard) the page scrolls as a whole
            // instead of the list (style/main.css): bring the newest line up there.
            #[cfg(feature = "hydrate")]
            if el.scroll_height() <= el.client_height() {
                if let Some(body) = document().body() {
                    window().scroll_to_with_x_and_y(0.0, f64::from(body.scroll_height()));
                }
            }
        }
        pill.set(false);
    };
    // New lines: follow them if the reader is at the bottom, else offer the pill.
    Effect::new(move |_| {
        store.arrivals.track();
        if at_bottom.get_untracked() {
            request_animation_frame(scroll_to_bottom);
        } else {
            pill.set(true);
        }
    });
    let load_older = move || {
        if loading.get_untracked() || !more.get_untracked() {
            return;
        }
        let Some(oldest) = store
            .items
            .with_untracked(|items| items.iter().find_map(|i| i.id))
        else {
            return;
        };
        loading.set(true);
        leptos::task::spawn_local(async move {
            if let Ok(page) = conversation(id.0, Some(oldest.0), None).await {
                let before = list
                    .get_untracked()
                    .map(|el| el.scroll_height())
                    .unwrap_or(0);
                more.set(page.messages.len() >= 50);
                store.prepend(&page.messages);
                // Keep the reader's place: the list grew above them.
                request_animation_frame(move || {
                    if let Some(el) = list.get_untracked() {
                        el.set_scroll_top(el.scroll_top() + el.scroll_height() - before);
                    }
                });
            }
            loading.set(false);
        });
    };
    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let bottom = el.scroll_height() - el.scroll_top() - el.client_height() < STICKY_PX;
        at_bottom.set(bottom);
        if bottom {
            pill.set(false);
        }
        if el.scroll_top() < STICKY_PX {
            load_older();
        }
    };
    let title = move || store.title("Conversation · Haven");
    // Read up to the newest message while it is on screen in a visible tab.
    #[cfg(feature = "hydrate")]
    {
        let visible = RwSignal::new(true);
        let update_visibility = move || {
            visible.set(document().visibility_state() == web_sys::VisibilityState::Visible);
        };
        update_visibility();
        let listener = wasm_bindgen::closure::Closure::<dyn Fn()>::new(update_visibility);
        let _ = document().add_event_listener_with_callback(
            "visibilitychange",
            wasm_bindgen::JsCast::unchecked_ref(listener.as_ref()),
        );
        listener.forget();
        Effect::new(move |_| {
            let newest = store
                .items
                .with(|items| items.iter().rev().find_map(|i| i.id));
            if let (Some(newest), true, true) = (newest, at_bottom.get(), visible.get()) {
                live.read_up_to(id, newest);
                store.mark_read(id);
            }
        });
    }
    let rows = Memo::new(move |_| {
        let readers = store.group.with(|g| {
            g.as_ref().map(|g| {
                g.members
                    .iter()
                    .filter(|m| m.author.handle != g.group.me)
                    .map(|m| (m.author.name.clone(), m.last_read_id))
                    .collect::<Vec<_>>()
            })
        });
        rows_of(
            store.items.get(),
            store.peer_read.get(),
            store.me,
            store.my_handle().as_deref(),
            readers.as_deref(),
        )
    });
    let peer_name = peer.display_name.clone();
    let peer_id = peer.id;
    let first_peer = peer.clone();
    let label = match &group_name {
        Some(name) => format!("Group {name}"),
        None => format!("Conversation with {}", peer.display_name),
    };
    let typing_line = move || {
        if is_group {
            store
                .group_typing
                .with(|typing| typing_words(typing.iter().map(|(_, name, _)| name.as_str())))
        } else {
            store
                .peer_typing
                .get()
                .map(|_| format!("{peer_name} is typing…"))
        }
    };
    // A group's header and foot differ (who leads it, who is in it; closed or left); the
    // history, typing line and pill are the same.
    let header = if is_group {
        view! { <super::group::GroupHeader leader=peer.clone()/> }.into_any()
    } else {
        view! {
            <header class="conversation-header">
                <h1>{peer.display_name.clone()}</h1>
                <p class="muted">{peer.bio.clone()}</p>
                <Status user=peer_id outside_hours=super::directory::outside_hours(peer.availability.as_ref())/>
                {peer.availability.clone().map(|availability| view! { <AvailabilityLines availability/> }.into_any())}
                {peer.student.clone().map(|facts| view! { <AboutStudent facts/> })}
                <Triage conversation=id/>
                // Nothing to mark in an empty conversation.
                <Show when=move || !store.items.with(Vec::is_empty)>
                    <MarkUnread conversation=id/>
                </Show>
            </header>
        }
        .into_any()
    };
    let foot = if is_group {
        view! {
            {move || {
                if store.left_group.get() {
                    view! { <p class="group-note" role="status">"You are no longer in this group. What you wrote stays in it under the name you chose."</p> }.into_any()
                } else if store.group_closed() {
                    view! { <p class="group-note" role="status">"This group is closed: you can read it, but no one can write in it any more."</p> }.into_any()
                } else {
                    ().into_any()
                }
            }}
            <Show when=move || !store.left_group.get() && !store.group_closed()>
                <Composer conversation=id client_id=client_id.clone() unsent=unsent.clone()/>
            </Show>
        }
        .into_any()
    } else {
        view! { <Composer conversation=id client_id unsent/> }.into_any()
    };
    view! {
        <Title text=title/>
        <section class="pane conversation-pane" class:group-pane=is_group aria-label=label>
            {header}
            // Focusable, so the history scrolls with the keyboard (arrows, Page Up/Down).
            <ol class="messages" node_ref=list on:scroll=on_scroll aria-live="polite"
                aria-label=if is_group { "Group history" } else { "Conversation history" } tabindex="0">
                <Show when=move || more.get()>
                    <li class="older">
                        <button type="button" class="link" on:click=move |_| load_older()>
                            {move || if loading.get() { "Loading…" } else { "Show earlier messages" }}
                        </button>
                    </li>
                </Show>
                // Keyed: a line is rendered once and again only when its own state changes
                // (sent, seen, failed), so one arriving message changes one item of the live
                // region, and a screen reader hears that message, not every time on screen.
                <For each=move || rows.get() key=Row::key let:row>
                    {row.separator.map(|at| view! { <DayLabel at/> })}
                    <Line item=row.item conversation=id seen=row.seen read_time=row.read_time seen_by=row.seen_by/>
                </For>
            </ol>
            <Show when=move || !is_group && store.items.with(Vec::is_empty)>
                <FirstMessage peer=first_peer.clone()/>
            </Show>
            <p class="typing" aria-live="polite">{typing_line}</p>
            <Show when=move || pill.get()>
                <button type="button" class="pill" on:click=move |_| scroll_to_bottom()>"New messages ↓"</button>
            </Show>
            {foot}
        </section>
    }
}

/// Who is typing in a group, in words: "Sam is typing…", "2 people are typing…".
fn typing_words<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> Option<String> {
    let count = names.len();
    let mut names = names;
    match count {
        0 => None,
        1 => names.next().map(|name| format!("{name} is typing…")),
        n => Some(format!("{n} people are typing…")),
    }
}

/// One line of the list as rendered: the message, the day label before it (the first of
/// its day) and its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    item: Item,
    separator: Option<crate::protocol::Timestamp>,
    seen: bool,
    read_time: bool,
    /// In a group, on this user's lines: the names of the members who read it.
    seen_by: Vec<String>,
}

impl Row {
    /// Everything that changes how the line looks: a new key renders it again.
    fn key(
        &self,
    ) -> (
        String,
        Option<crate::protocol::MessageId>,
        Delivery,
        bool,
        bool,
        bool,
        usize,
        crate::protocol::MessageKind,
    ) {
        (
            self.item.client_id.clone(),
            self.item.id,
            self.item.delivery,
            self.seen,
            self.read_time,
            self.separator.is_some(),
            self.seen_by.len(),
            self.item.kind,
        )
    }
}

/// The rows of `items`: a day label before the first line of each day, "Seen" on every
/// line of ours the peer has read (an earlier one must not read as unseen) and the read
/// time on the newest of them. In a group (`readers`: the other members' names and read
/// markers), who has read each of ours.
fn rows_of(
    items: Vec<Item>,
    peer_read: crate::protocol::MessageId,
    me: crate::protocol::UserId,
    my_handle: Option<&str>,
    readers: Option<&[(String, crate::protocol::MessageId)]>,
) -> Vec<Row> {
    let newest_seen = items
        .iter()
        .rev()
        .find(|i| i.sender_id == Some(me) && i.id.is_some_and(|id| id <= peer_read))
        .and_then(|i| i.id);
    let in_group = readers.is_some();
    let mut previous_day = None;
    items
        .into_iter()
        .map(|item| {
            let day = item.created_at.map(day_of);
            let separator = item.created_at.filter(|_| day != previous_day);
            if day.is_some() {
                previous_day = day;
            }
            // Only our own lines carry a receipt: the peer's keep their key when they read.
            let mine = item.is_from(me, my_handle);
            let seen_by: Vec<String> = match (readers, item.id) {
                (Some(readers), Some(id)) if mine => readers
                    .iter()
                    .filter(|(_, read)| *read >= id)
                    .map(|(name, _)| name.clone())
                    .collect(),
                _ => Vec::new(),
            };
            let seen = if in_group {
                !seen_by.is_empty()
            } else {
                mine && item.id.is_some_and(|id| id <= peer_read)
            };
            let read_time = !in_group && seen && item.id == newest_seen;
            Row {
                item,
                separator,
                seen,
                read_time,
                seen_by,
            }
        })
        .collect()
}

/// One message line.
#[component]
fn Line(
    item: Item,
    conversation: ConversationId,
    seen: bool,
    read_time: bool,
    seen_by: Vec<String>,
) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    #[cfg(feature = "hydrate")]
    let live = expect_context::<super::live::LiveHandle>();
    if item.kind == crate::protocol::MessageKind::Notice {
        return view! { <NoticeLine item/> }.into_any();
    }
    if item.kind.is_group_line() {
        return view! { <super::group::QuietLine item/> }.into_any();
    }
    let my_handle = store.my_handle();
    let mine = item.is_from(store.me, my_handle.as_deref());
    let in_group = my_handle.is_some();
    // In a group, others' lines say who wrote them.
    let author = item
        .author
        .clone()
        .filter(|_| !mine)
        .map(|a| view! { <p class="author">{a.name}</p> });
    let moderate =
        in_group.then(|| view! { <super::group::RemoveMessage conversation message=item.id/> });
    let seen_words = match seen_by.len() {
        0 => "Seen".to_owned(),
        n => format!("Seen by {n}"),
    };
    // The leader sees by whom; a student sees how many.
    let seen_names = (!seen_by.is_empty()).then(|| seen_by.join(", "));
    let status = match (mine, item.delivery) {
        (false, _) => None,
        (true, Delivery::Sending) => Some("sending"),
        (true, Delivery::Sent) => Some("sent"),
        (true, Delivery::Failed) => Some("failed"),
    };
    let retry = (item.delivery == Delivery::Failed).then(|| {
        let client_id = item.client_id.clone();
        let body = item.body.clone();
        let error = item.error.clone().unwrap_or_default();
        view! {
            <span class="failed">{error}" "</span>
            <button
                type="button"
                class="link"
                on:click=move |_| {
                    store.set_delivery(&client_id, Delivery::Sending, None);
                    #[cfg(feature = "hydrate")]
                    live.send(store, conversation, client_id.clone(), body.clone());
                    #[cfg(not(feature = "hydrate"))]
                    let _ = (&body, conversation);
                }
            >
                "Retry"
            </button>
        }
    });
    view! {
        <li
            class="message"
            id=item.id.map(|id| format!("m-{id}"))
            class:mine=mine
            class:theirs=!mine
            data-client-id=item.client_id.clone()
            data-status=status.unwrap_or("received")
        >
            {author}
            {match item.kind {
                crate::protocol::MessageKind::Erased => view! { <p class="body erased">"Message deleted with the account"</p> }.into_any(),
                crate::protocol::MessageKind::Removed => view! { <p class="body erased">"Message removed by the group's leader"</p> }.into_any(),
                _ => view! { <p class="body">{item.body.clone()}</p> }.into_any(),
            }}
            <p class="meta">
                {item.created_at.map(|at| view! { <Clock at/> })}
                {status.map(|s| {
                    // "sending" alone, for minutes, says nothing: while the link is down,
                    // say what the message waits for.
                    let seen_words = seen_words.clone();
                    let text = move || match (s, seen) {
                        ("failed", _) => "failed —".to_owned(),
                        ("sent", true) => seen_words.clone(),
                        ("sending", _) if store.link_down() => "waiting for a connection".to_owned(),
                        _ => s.to_owned(),
                    };
                    // "Seen" carries the read time on hover; "Seen by N" the names, for
                    // the leader.
                    let seen_names = seen_names.clone();
                    let leader = store.group.with_untracked(|g| {
                        g.as_ref().is_some_and(|g| g.group.leader.handle == g.group.me)
                    });
                    let read_at = move || {
                        if let Some(names) = seen_names.clone().filter(|_| leader) {
                            return Some(format!("Seen by {names}"));
                        }
                        read_time
                            .then(|| store.peer_read_at.get())
                            .flatten()
                            .map(|at| format!("Seen {}", super::time::local_datetime(at)))
                    };
                    view! { <span class="status" class:seen=seen title=read_at>{text}</span> }
                })}
                {retry}
                {moderate}
            </p>
        </li>
    }
    .into_any()
}

/// A notice from Haven (the after-hours notice): set apart from both members' lines and
/// labelled, so it is never read as the psychiatrist's words; its crisis lines are links
/// ([`notice_text`](super::notice_text)). A plain list item: a `role` on it would break the
/// list for screen readers.
#[component]
fn NoticeLine(item: Item) -> impl IntoView {
    use super::notice_text::{pieces, Piece};
    let body = pieces(&item.body)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => view! { <span>{text}</span> }.into_any(),
            Piece::Link { text, href } => view! { <a href=href>{text}</a> }.into_any(),
        })
        .collect_view();
    view! {
        <li class="message notice" id=item.id.map(|id| format!("m-{id}")) data-client-id=item.client_id.clone()>
            <p class="notice-label">"Automatic notice from Haven — not a reply"</p>
            <p class="body">{body}</p>
            <p class="meta">{item.created_at.map(|at| view! { <Clock at/> })}</p>
        </li>
    }
}

/// For a psychiatrist: since when the student writes and how many conversations they have,
/// without leaving the conversation.
#[component]
fn AboutStudent(facts: crate::protocol::StudentFacts) -> impl IntoView {
    let count = match facts.conversations {
        1 => "1 conversation in Haven".to_owned(),
        n => format!("{n} conversations in Haven"),
    };
    view! {
        <p class="muted about-student">
            {if facts.deleted {
                view! { "This student deleted their account." }.into_any()
            } else {
                match facts.writing_since {
                    Some(at) => view! { "Writing since " <super::time::DateLabel at/> {format!(" · {count}")} }.into_any(),
                    None => view! { {format!("Has not written yet · {count}")} }.into_any(),
                }
            }}
        </p>
    }
}

/// An empty conversation says what happens next: for a student, who reads their message
/// and when, and where to turn if they cannot wait.
#[component]
fn FirstMessage(peer: crate::protocol::Person) -> impl IntoView {
    let Some(availability) = peer.availability else {
        return view! {
            <div class="first-message" role="note">
                <p>"This student has not written yet."</p>
            </div>
        }
        .into_any();
    };
    let name = peer.display_name;
    view! {
        <div class="first-message" role="note">
            <p>{format!("Only {name} reads what you write here; nobody else in Haven can.")}</p>
            <p>{availability.summary.clone()}</p>
            {availability.reply_line().map(|line| view! { <p>{line}</p> })}
            <p>
                "Haven is not for emergencies. If you cannot wait, "
                <a href="/help">"see who to contact now"</a>
                "."
            </p>
        </div>
    }
    .into_any()
}

/// "Mark as unread": a plain form, so the page is left for the list (staying would read it
/// again) with or without JavaScript.
#[component]
fn MarkUnread(conversation: ConversationId) -> impl IntoView {
    view! {
        <form class="mark-unread" method="post" action="/api/form/mark_unread">
            <input type="hidden" name="conversation_id" value=conversation.0/>
            <button type="submit" class="button secondary small">"Mark as unread"</button>
        </form>
    }
}

/// For a psychiatrist: how long the student has waited, and "Mark as handled" (a plain
/// form: it works without JavaScript).
#[component]
fn Triage(conversation: ConversationId) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let psychiatrist =
        expect_context::<crate::protocol::Role>() == crate::protocol::Role::Psychiatrist;
    let action = ServerAction::<crate::api::chat::MarkHandled>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            store.mark_handled(conversation);
        }
    });
    move || {
        let at = store
            .awaiting_since(conversation)
            .filter(|_| psychiatrist)?;
        Some(view! {
            <div class="triage">
                <span class="awaiting"><super::sidebar::Waited at/></span>
                <ActionForm action=action>
                    <input type="hidden" name="conversation_id" value=conversation.0/>
                    <button type="submit" class="button secondary small">"Mark as handled"</button>
                </ActionForm>
            </div>
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        Author, ClientId, ConversationId, Message, MessageId, MessageKind, Role, Timestamp, UserId,
    };

    #[test]
    fn typing_in_a_group_names_one_and_counts_several() {
        assert_eq!(typing_words([].into_iter()), None);
        assert_eq!(
            typing_words(["Sam"].into_iter()).as_deref(),
            Some("Sam is typing…")
        );
        assert_eq!(
            typing_words(["Sam", "Quiet Fox"].into_iter()).as_deref(),
            Some("2 people are typing…")
        );
    }

    #[test]
    fn in_a_group_our_lines_say_by_how_many_they_were_seen() {
        let me = UserId(1);
        let line = |id: i64, handle: &str| {
            Item::stored(&Message {
                id: MessageId(id),
                conversation_id: ConversationId(1),
                sender_id: None,
                kind: MessageKind::Text,
                client_id: ClientId(format!("c{id}")),
                body: "synthetic".into(),
                created_at: Timestamp::from_millis(id),
                author: Some(Author {
                    handle: handle.into(),
                    name: "Synthetic".into(),
                    role: Role::Student,
                    user_id: None,
                    display_name: None,
                }),
            })
        };
        let readers = [
            ("Kim".to_owned(), MessageId(2)),
            ("Dr. Lee".to_owned(), MessageId(1)),
        ];
        let rows = rows_of(
            vec![line(1, "gme"), line(2, "gme"), line(3, "gother")],
            MessageId(0),
            me,
            Some("gme"),
            Some(&readers),
        );
        let seen: Vec<usize> = rows.iter().map(|r| r.seen_by.len()).collect();
        assert_eq!(seen, [2, 1, 0], "only our lines carry a receipt");
        assert!(rows[0].seen && rows[1].seen && !rows[2].seen);
        assert_eq!(rows[1].seen_by, ["Kim"]);
    }
}
