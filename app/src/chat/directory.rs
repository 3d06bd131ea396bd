//! `/chat` for a student: the psychiatrists they can write to. For a psychiatrist: who will
//! appear here.

use leptos::prelude::*;

use super::store::ChatStore;
use crate::api::chat::{directory, StartConversation};
use crate::components::action_form::ActionForm;
use crate::protocol::json::{resource, Prop};
use crate::protocol::{Availability, Person, Role, UserId};

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
        Role::Psychiatrist => view! { <Waiting/> }.into_any(),
    };
    view! { {title} {body} }
}

/// A psychiatrist's chat home: how many students await a reply, kept current as they write
/// and are answered (an island inside the chat's, whose list it reads).
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn Waiting() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    view! {
        <section class="pane empty-state">
            <h1>"Your conversations"</h1>
            {move || {
                let (listed, awaiting) = store.conversations.with(|list| {
                    (list.len(), list.iter().filter(|c| c.awaiting_since.is_some()).count())
                });
                match (listed, awaiting) {
                    (0, _) => view! {
                        <p>"No student has written to you yet. When one does, the conversation appears in your list."</p>
                        <p>"Students see your office hours before they write: keep them current under "
                            <a href=crate::api::care::AVAILABILITY_PAGE>"Availability"</a>"."</p>
                    }.into_any(),
                    (_, 0) => view! { <p>"Choose a conversation from your list. Nobody is awaiting a reply."</p> }.into_any(),
                    (_, 1) => view! { <p>"Choose a conversation from your list. 1 student is awaiting a reply."</p> }.into_any(),
                    (_, n) => view! { <p>{format!("Choose a conversation from your list. {n} students are awaiting a reply.")}</p> }.into_any(),
                }
            }}
        </section>
    }
}

#[component]
fn Directory() -> impl IntoView {
    let people = resource(|| (), |_| directory());
    view! {
        <section class="pane directory" aria-labelledby="directory-title">
            <h1 id="directory-title">"Talk to a psychiatrist"</h1>
            <p class="lede">"Choose someone to write to. Only they will see your conversation."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No psychiatrists yet."</p> }.into_any(),
                        Ok(list) => view! { <People list=Prop(list)/> }.into_any(),
                        Err(e) => view! { <p role="alert">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The psychiatrists, available ones first, then by name, re-sorted as their statuses
/// change: an island inside the chat's, whose presence it reads.
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn People(list: Prop<Vec<Person>>) -> impl IntoView {
    let Prop(list) = list;
    let store = expect_context::<ChatStore>();
    let sorted = move || {
        let mut people = list.clone();
        people.sort_by_key(|p| (store.is_online(p.id) != Some(true), p.display_name.clone()));
        people
    };
    view! {
        <ul class="people">
            <For each=sorted key=|p| p.id let:person>
                <PersonCard person/>
            </For>
        </ul>
    }
}

#[component]
fn PersonCard(person: Person) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let start = ServerAction::<StartConversation>::new();
    let label = format!("Write to {}", person.display_name);
    let id = person.id;
    let writing_already = store
        .conversations
        .with_untracked(|list| list.iter().any(|c| c.peer.id == id));
    let open = person.availability.as_ref().is_none_or(|a| a.accepting_new) || writing_already;
    view! {
        <li class="person">
            <div>
                <p class="peer-name">{person.display_name.clone()}</p>
                <p class="muted">{person.bio.clone()}</p>
                <Status user=id outside_hours=outside_hours(person.availability.as_ref())/>
                {person.availability.clone().map(|availability| view! { <AvailabilityLines availability/> })}
            </div>
            {if open {
                view! {
                    <ActionForm action=start>
                        <input type="hidden" name="peer_id" value=person.id.0/>
                        <button type="submit" class="button small" aria-label=label>"Write"</button>
                    </ActionForm>
                }
                .into_any()
            } else {
                view! { <p class="muted paused">"Not taking new students just now"</p> }.into_any()
            }}
        </li>
    }
}

/// Whether a psychiatrist is outside the hours they set (or away): their being online is
/// then no promise of an answer.
pub fn outside_hours(availability: Option<&Availability>) -> bool {
    use crate::protocol::AvailabilityState;
    availability.is_some_and(|a| {
        matches!(
            a.state,
            AvailabilityState::OutOfHours | AvailabilityState::Away
        )
    })
}

/// When a psychiatrist answers: their state now, how soon they usually reply, their
/// weekly hours and any leave note (quoted as theirs).
#[component]
pub fn AvailabilityLines(availability: Availability) -> impl IntoView {
    let hours = (!availability.hours.is_empty()).then(|| {
        let zone = availability.time_zone.clone();
        view! {
            <details class="hours">
                <summary>"Office hours"</summary>
                <ul>{availability.hours.iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view()}</ul>
                <p class="muted">"Times in " {zone}</p>
            </details>
        }
    });
    let note = (!availability.away_note.is_empty()).then(
        || view! { <p class="away-note">"Their note: “" {availability.away_note.clone()} "”"</p> },
    );
    // Without office hours nothing is promised; say so rather than leave "sent" alone.
    let expectation = match (availability.state, availability.reply_line()) {
        (_, Some(line)) => Some(line),
        (crate::protocol::AvailabilityState::NoHours, None) => Some(
            "No set time for a reply: they read messages when they are next in Haven. If you \
             cannot wait, use the crisis lines at the top of the page."
                .to_owned(),
        ),
        _ => None,
    };
    view! {
        <p class="availability" data-state=format!("{:?}", availability.state)>{availability.summary.clone()}</p>
        {expectation.map(|line| view! { <p class="reply-time muted">{line}</p> })}
        {note}
        {hours}
    }
    .into_any()
}

/// "online" with a green dot, or "last seen 5 minutes ago" (relative, kept current by the
/// browser), or nothing while the status is unknown. The server renders it too, by its
/// clock, so a page without JavaScript says it.
///
/// `outside_hours`: a psychiatrist who set office hours and is outside them (or away). Being
/// signed in then promises nothing: no green dot, and the line says so.
#[component]
pub fn Status(user: UserId, #[prop(optional)] outside_hours: bool) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let (_, tick) = super::time::ticking(30);
    move || {
        store
            .presence
            .with(|map| map.get(&user).cloned())
            .map(|status| {
                tick.track();
                // Out of date while this tab has no link: promise nothing.
                if store.link_down() {
                    return view! {
                        <p class="status-line" data-online="unknown">
                            <span class="dot" aria-hidden="true"></span>
                            "status unknown while you are offline"
                        </p>
                    }
                    .into_any();
                }
                let text = match (status.online, status.last_seen) {
                    (true, _) if outside_hours => "online, but outside office hours".to_owned(),
                    (true, _) => "online".to_owned(),
                    (false, Some(at)) => format!("last seen {}", super::time::relative(at)),
                    (false, None) => "offline".to_owned(),
                };
                view! {
                    <p class="status-line" data-online=status.online.to_string()>
                        <span class="dot" class:on=status.online && !outside_hours aria-hidden="true"></span>
                        {text}
                    </p>
                }
                .into_any()
            })
    }
}
