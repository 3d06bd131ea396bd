//! A support group's parts of the chat (issue 27): its header (who leads it, who is in it,
//! the leader's invitations and moderation, a student's "Leave"), the quiet lines of the
//! timeline, the leader's "Remove" on a message, the psychiatrist's "New group" form and a
//! student's invitations. Actions go over the socket; until it is connected (or without
//! JavaScript) they say so instead of acting.

use leptos::prelude::*;

use super::directory::{AvailabilityLines, Status};
use super::store::ChatStore;
use super::time::Clock;
use super::timeline::Item;
use crate::protocol::{ConversationId, MessageId, MessageKind, Person};

/// Runs a group action over the live socket; `done` hears the answer (an error to show).
#[cfg(feature = "hydrate")]
fn act<E>(payload: E::Payload, done: impl FnOnce(Result<E::Ack, String>) + 'static)
where
    E: crate::protocol::events::ClientEvent + 'static,
{
    let live = expect_context::<super::live::LiveHandle>();
    leptos::task::spawn_local(async move { done(live.call::<E>(payload).await) });
}

/// A group's header: its name and description, the leader (status and availability), the
/// members by the names they chose; for the leader, invitations, removal and closing; for
/// a student, leaving.
#[component]
pub fn GroupHeader(leader: Person) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let error = RwSignal::new(None::<String>);
    let group = move || store.group.get();
    let is_leader = move || {
        store.group.with(|g| {
            g.as_ref()
                .is_some_and(|g| g.group.leader.handle == g.group.me)
        })
    };
    let leader_id = leader.id;
    let outside = super::directory::outside_hours(leader.availability.as_ref());
    view! {
        <header class="conversation-header group-header">
            {move || group().map(|view| {
                let g = view.group;
                view! {
                    <h1>{g.name.clone()}</h1>
                    <p class="muted group-description">{g.description.clone()}</p>
                    <p class="muted">
                        {format!("Support group led by {} · {} of {} members", g.leader.name, g.students, g.member_limit)}
                    </p>
                }
            })}
            <Status user=leader_id outside_hours=outside/>
            {leader.availability.clone().map(|availability| view! { <AvailabilityLines availability/> })}
            <details class="group-members">
                <summary>"Members"</summary>
                <ul>
                    {move || group().map(|view| {
                        let leading = is_leader();
                        let conversation = view.group.id;
                        view.members.into_iter().map(|member| {
                            let a = member.author;
                            let behind = a.display_name.clone().map(|d| format!(" ({d})"));
                            let removable = (leading && a.role == crate::protocol::Role::Student)
                                .then_some(a.user_id)
                                .flatten();
                            view! {
                                <li data-handle=a.handle.clone()>
                                    {a.name.clone()}{behind}
                                    {(a.role == crate::protocol::Role::Psychiatrist).then_some(" · leads the group")}
                                    {removable.map(|member_id| view! {
                                        <RemoveMember conversation member_id error/>
                                    })}
                                </li>
                            }
                        }).collect_view()
                    })}
                </ul>
            </details>
            <Show when=is_leader>
                <Invite error/>
                <CloseGroup error/>
            </Show>
            <Show when=move || !is_leader() && !store.left_group.get()>
                <LeaveGroup error/>
            </Show>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </header>
    }
}

/// The leader invites one of their students: those with a one-to-one conversation in the
/// sidebar.
#[component]
fn Invite(error: RwSignal<Option<String>>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let chosen = RwSignal::new(String::new());
    let sent = RwSignal::new(None::<String>);
    let students = move || {
        store.conversations.with(|list| {
            list.iter()
                .filter(|c| c.group.is_none() && c.peer.role == crate::protocol::Role::Student)
                .map(|c| (c.peer.id, c.peer.display_name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(student) = chosen.get_untracked().parse::<i64>() else {
            return;
        };
        let Some(conversation) = store.open.get_untracked() else {
            return;
        };
        #[cfg(feature = "hydrate")]
        act::<crate::protocol::events::client::GroupInvite>(
            crate::protocol::groups::InviteToGroup {
                conversation_id: conversation,
                student_id: crate::protocol::UserId(student),
            },
            move |answer| match answer {
                Ok(_) => {
                    error.set(None);
                    sent.set(Some("Invitation sent.".to_owned()));
                }
                Err(e) => error.set(Some(e)),
            },
        );
        #[cfg(not(feature = "hydrate"))]
        let _ = (student, conversation, error);
    };
    view! {
        <form class="group-invite" on:submit=invite>
            <label>
                "Invite a student "
                <select name="student" on:change=move |ev| chosen.set(event_target_value(&ev))>
                    <option value="">"Choose…"</option>
                    {move || students().into_iter().map(|(id, name)| view! {
                        <option value=id.0>{name}</option>
                    }).collect_view()}
                </select>
            </label>
            " "
            <button type="submit" class="button secondary small">"Invite"</button>
            <span class="muted" role="status">{move || sent.get()}</span>
        </form>
    }
}

/// The leader removes a member.
#[component]
fn RemoveMember(
    conversation: ConversationId,
    member_id: crate::protocol::UserId,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let remove = move |_| {
        #[cfg(feature = "hydrate")]
        act::<crate::protocol::events::client::GroupRemove>(
            crate::protocol::groups::RemoveMember {
                conversation_id: conversation,
                member_id,
            },
            move |answer| error.set(answer.err()),
        );
        #[cfg(not(feature = "hydrate"))]
        let _ = (conversation, member_id, error);
    };
    view! { " " <button type="button" class="link remove-member" on:click=remove>"Remove"</button> }
}

/// The leader closes the group (after a confirmation in the browser).
#[component]
fn CloseGroup(error: RwSignal<Option<String>>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let close = move |_| {
        let Some(conversation) = store.open.get_untracked() else {
            return;
        };
        #[cfg(feature = "hydrate")]
        {
            let sure = window()
                .confirm_with_message(
                    "Close this group? Nobody will be able to write in it any more.",
                )
                .unwrap_or(false);
            if sure {
                act::<crate::protocol::events::client::GroupClose>(
                    crate::protocol::groups::InGroup {
                        conversation_id: conversation,
                    },
                    move |answer| error.set(answer.err()),
                );
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (conversation, error);
    };
    view! {
        <Show when=move || !store.group_closed()>
            <button type="button" class="button secondary small close-group" on:click=close>"Close the group"</button>
        </Show>
    }
}

/// A student leaves the group.
#[component]
fn LeaveGroup(error: RwSignal<Option<String>>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let leave = move |_| {
        let Some(conversation) = store.open.get_untracked() else {
            return;
        };
        #[cfg(feature = "hydrate")]
        act::<crate::protocol::events::client::GroupLeave>(
            crate::protocol::groups::InGroup {
                conversation_id: conversation,
            },
            move |answer| match answer {
                Ok(_) => store.leave_group(conversation),
                Err(e) => error.set(Some(e)),
            },
        );
        #[cfg(not(feature = "hydrate"))]
        let _ = (conversation, error);
    };
    view! { <button type="button" class="button secondary small leave-group" on:click=leave>"Leave the group"</button> }
}

/// The leader's "Remove" on a message of their group.
#[component]
pub fn RemoveMessage(conversation: ConversationId, message: Option<MessageId>) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let leading = store.group.with_untracked(|g| {
        g.as_ref()
            .is_some_and(|g| g.group.leader.handle == g.group.me)
    });
    let message = message.filter(|_| leading)?;
    let remove = move |_| {
        #[cfg(feature = "hydrate")]
        act::<crate::protocol::events::client::MessageRemove>(
            crate::protocol::groups::RemoveMessage {
                conversation_id: conversation,
                message_id: message,
            },
            move |answer| {
                if answer.is_ok() {
                    store.message_removed(conversation, message);
                }
            },
        );
        #[cfg(not(feature = "hydrate"))]
        let _ = (conversation, message);
    };
    Some(
        view! { " " <button type="button" class="link remove-message" on:click=remove>"Remove"</button> },
    )
}

/// A quiet line: someone joined, left or was removed, or the group was closed.
#[component]
pub fn QuietLine(item: Item) -> impl IntoView {
    let name = item
        .author
        .as_ref()
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let text = match item.kind {
        MessageKind::MemberJoined => format!("{name} joined the group"),
        MessageKind::MemberLeft => format!("{name} left the group"),
        MessageKind::MemberRemoved => format!("{name} was removed from the group"),
        _ => "The leader closed the group".to_owned(),
    };
    view! {
        <li class="message quiet-line" id=item.id.map(|id| format!("m-{id}")) data-client-id=item.client_id.clone()>
            <p>{text}" · "{item.created_at.map(|at| view! { <Clock at/> })}</p>
        </li>
    }
}

/// A psychiatrist starts a group: name, description, member limit.
#[component]
pub fn NewGroup() -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let limit = RwSignal::new(String::from("12"));
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = crate::protocol::groups::CreateGroup {
            name: name.get_untracked(),
            description: description.get_untracked(),
            member_limit: limit.get_untracked().trim().parse().ok(),
        };
        #[cfg(feature = "hydrate")]
        act::<crate::protocol::events::client::GroupCreate>(request, move |answer| match answer {
            // The page load renders the sidebar with the new group in it.
            Ok(created) => super::go(&format!("/chat/{}", created.conversation.id)),
            Err(e) => error.set(Some(e)),
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = request;
    };
    view! {
        <details class="new-group">
            <summary>"New support group"</summary>
            <form on:submit=create>
                <label>"Name" <input name="name" maxlength="80" required
                    on:input=move |ev| name.set(event_target_value(&ev))/></label>
                <label>"Description" <textarea name="description" maxlength="600"
                    on:input=move |ev| description.set(event_target_value(&ev))></textarea></label>
                <label>"Students at most" <input name="member_limit" type="number" min="2" max="30" value="12"
                    on:input=move |ev| limit.set(event_target_value(&ev))/></label>
                <button type="submit" class="button small">"Create the group"</button>
                <p class="form-error" role="alert">{move || error.get()}</p>
            </form>
        </details>
    }
}

/// A student's open invitations: the group, who leads it, and a yes (with an optional
/// alias) or a no.
#[component]
pub fn Invitations() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    view! {
        <Show when=move || store.invitations.with(|list| !list.is_empty())>
            <section class="invitations" aria-label="Group invitations">
                <h3>"Invitations"</h3>
                <For each=move || store.invitations.get() key=|g| g.id let:group>
                    <Invitation group/>
                </For>
            </section>
        </Show>
    }
}

#[component]
fn Invitation(group: crate::protocol::Group) -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let alias = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let id = group.id;
    let answer = move |accept: bool| {
        let alias = alias.get_untracked();
        let payload = crate::protocol::groups::AnswerInvitation {
            conversation_id: id,
            accept,
            alias: (!alias.trim().is_empty()).then_some(alias),
        };
        #[cfg(feature = "hydrate")]
        act::<crate::protocol::events::client::GroupAnswer>(payload, move |answer| match answer {
            Ok(answered) => {
                store.answered(id);
                if let Some(group) = answered.conversation {
                    super::go(&format!("/chat/{}", group.id));
                }
            }
            Err(e) => error.set(Some(e)),
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (payload, store);
    };
    view! {
        <article class="invitation" data-group=id.0>
            <p><strong>{group.name.clone()}</strong>{format!(" · led by {}", group.leader.name)}</p>
            <p class="muted">{group.description.clone()}</p>
            <label>
                "Show me in this group as "
                <input name="alias" maxlength="32" placeholder="your display name"
                    on:input=move |ev| alias.set(event_target_value(&ev))/>
            </label>
            <p class="muted">"Other students see only this name. The leader sees who you are."</p>
            <button type="button" class="button small accept" on:click=move |_| answer(true)>"Join"</button>
            " "
            <button type="button" class="button secondary small decline" on:click=move |_| answer(false)>"Decline"</button>
            <p class="form-error" role="alert">{move || error.get()}</p>
        </article>
    }
}
