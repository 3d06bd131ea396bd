//! `/chat/*`: who is signed in (else a redirect to sign in), the top bar, the connection
//! banner, the sidebar, and the open screen.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;

use super::idle::IdleWatch;
use super::sidebar::Sidebar;
use super::store::{ChatStore, Connection};
use crate::api::auth::{current_viewer, Logout};
use crate::api::chat::{conversations, presence};
use crate::components::action_form::ActionForm;
use crate::components::crisis::CrisisNotice;
use crate::protocol::json::{resource, Prop};
use crate::protocol::{ConversationList, PresenceUpdate, PublicUser, SessionLimits, Viewer};

/// Loads the viewer and their conversations, then renders the chat around the nested route.
#[component]
pub fn ChatLayout() -> impl IntoView {
    // On a phone one pane shows at a time: the list on `/chat`, otherwise the open screen
    // (with a way back). As islands every screen is a page load of its own, so the server
    // decides; without them the shell follows the router itself.
    let pane_open = use_location()
        .pathname
        .with_untracked(|path| path.trim_end_matches('/') != "/chat");
    let data = resource(
        || (),
        |_| async move {
            let viewer = current_viewer().await.map_err(|e| e.to_string())?;
            let (list, statuses, limits) = match &viewer {
                Viewer::SignedIn(_) => (
                    conversations(None, None).await.map_err(|e| e.message)?,
                    presence().await.map_err(|e| e.message)?,
                    crate::api::auth::session_limits()
                        .await
                        .map_err(|e| e.to_string())?,
                ),
                Viewer::SignedOut { .. } => (
                    ConversationList {
                        conversations: Vec::new(),
                        invitations: Vec::new(),
                        more: None,
                    },
                    Vec::new(),
                    SessionLimits::default(),
                ),
            };
            let crisis = crate::api::care::crisis_resources()
                .await
                .unwrap_or_default();
            Ok::<_, String>((
                viewer,
                Signed {
                    list,
                    statuses,
                    limits,
                    crisis,
                },
            ))
        },
    );
    view! {
        <Title text="Haven"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((Viewer::SignedIn(user), signed)) => view! {
                        <ChatShell user=Prop(user) signed=Prop(signed) pane_open><Outlet/></ChatShell>
                    }
                    .into_any(),
                    Ok((Viewer::SignedOut { login_path }, _)) => view! { <Redirect path=login_path/> }.into_any(),
                    Err(message) => view! {
                        <main class="auth"><section class="card" role="alert">{message}</section></main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the chat loads for a signed-in person besides who they are.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Signed {
    /// The sidebar's first page.
    list: ConversationList,
    statuses: Vec<PresenceUpdate>,
    /// The session's inactivity limit and whether it is a shared computer's.
    limits: SessionLimits,
    /// Where to turn in a crisis (the notice under the top bar).
    crisis: Vec<crate::protocol::CrisisResource>,
}

/// The live chat around the open screen (`children`, rendered on the server): an island,
/// the one that owns the socket and the store every other chat island reads.
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
fn ChatShell(
    user: Prop<PublicUser>,
    signed: Prop<Signed>,
    pane_open: bool,
    children: Children,
) -> impl IntoView {
    let Prop(user) = user;
    let Prop(Signed {
        list,
        statuses,
        limits,
        crisis,
    }) = signed;
    // Without islands the router keeps this layout while the screen changes under it.
    #[cfg(not(feature = "islands"))]
    let pane_open = {
        let _ = pane_open;
        let location = use_location();
        move || {
            location
                .pathname
                .with(|path| path.trim_end_matches('/') != "/chat")
        }
    };
    provide_context(crate::components::crisis::KnownCrisisResources(crisis));
    // A shared computer keeps no unsent text once the tab is closed.
    #[cfg(feature = "hydrate")]
    if limits.shared {
        super::outbox::keep_in_tab_only();
    }
    let store = ChatStore::new(user.id, list);
    for status in statuses {
        store.set_presence(status);
    }
    provide_context(store);
    provide_context(user.role);
    #[cfg(feature = "hydrate")]
    {
        let live = super::live::LiveHandle::default();
        provide_context(live);
        Effect::new(move |started: Option<()>| {
            if started.is_none() {
                live.start(store);
            }
        });
    }
    let logout = ServerAction::<Logout>::new();
    view! {
        <Title text=move || store.title("Haven")/>
        // Focus is moved here: the whole-page build's router handles in-page links itself
        // (no focus move), and this keeps both builds alike.
        <a class="skip-link" href="#main" on:click=move |_ev| {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                if let Some(main) = document()
                    .get_element_by_id("main")
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    _ev.prevent_default();
                    let _ = main.focus();
                }
            }
        }>"Skip to the conversation"</a>
        {limits.idle_secs.map(|limit_secs| view! { <IdleWatch limit_secs role=user.role user=user.id/> })}
        <div class="chat-layout" class:pane-open=pane_open>
            <header class="topbar">
                <a class="brand small" href="/chat">"Haven"</a>
                <ConnectionBanner/>
                <NotifyButton user=user.id/>
                {(user.role == crate::protocol::Role::Psychiatrist).then(|| view! {
                    <a class="link" href=crate::api::care::AVAILABILITY_PAGE>"Availability"</a>
                })}
                <a class="link" href=super::settings::SETTINGS_PAGE>"Settings"</a>
                <span class="whoami">
                    <span class="display-name">{user.display_name.clone()}</span>
                    <span class="role-badge">{user.role.as_str()}</span>
                </span>
                // Nothing of this user's outbox stays behind for the next person.
                <ActionForm action=logout on:submit=move |_| {
                    #[cfg(feature = "hydrate")]
                    super::outbox::clear(user.id);
                }>
                    <button type="submit" class="button secondary small">"Sign out"</button>
                </ActionForm>
            </header>
            <CrisisNotice/>
            <Sidebar/>
            <main id="main" class="main" tabindex="-1">
                <a class="back-link" href="/chat">"← Conversations"</a>
                {children()}
            </main>
        </div>
    }
}

/// "Connecting…" / "Reconnecting…" while the socket is not connected. Rendered only in the
/// browser (the server cannot know), so the server's first frame shows nothing.
#[component]
fn ConnectionBanner() -> impl IntoView {
    let store = expect_context::<ChatStore>();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let text = move || {
        if !hydrated.get() {
            return None;
        }
        if store.network_offline.get() {
            return Some(
                "You are offline. What you write waits here and is sent when you are back online.",
            );
        }
        match store.connection.get() {
            Connection::Connected => None,
            Connection::Connecting => Some("Connecting…"),
            Connection::Reconnecting => {
                Some("Reconnecting… What you write is sent once the connection is back.")
            }
        }
    };
    view! {
        // `data-socket`: the socket's own state, which "offline" covers in the text.
        <p
            class="connection"
            role="status"
            aria-live="polite"
            class:visible=move || text().is_some()
            data-socket=move || match store.connection.get() {
                Connection::Connected => "connected",
                Connection::Connecting => "connecting",
                Connection::Reconnecting => "reconnecting",
            }
        >
            {text}
        </p>
    }
}

/// Offers system notifications for new messages while the tab is hidden. Asked only when
/// the person presses it (never on page load); once allowed, a visible setting chooses
/// between off, on without names (the default) and on with names.
#[component]
fn NotifyButton(user: crate::protocol::UserId) -> impl IntoView {
    use super::notifications::Mode;
    let askable = RwSignal::new(false);
    let granted = RwSignal::new(false);
    let mode = RwSignal::new(Mode::default());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use web_sys::{Notification, NotificationPermission};
        askable.set(Notification::permission() == NotificationPermission::Default);
        granted.set(Notification::permission() == NotificationPermission::Granted);
        mode.set(super::notifications::load(user));
    });
    let choose = move |ev: leptos::ev::Event| {
        let chosen = Mode::parse(&event_target_value(&ev));
        mode.set(chosen);
        #[cfg(feature = "hydrate")]
        {
            super::notifications::save(user, chosen);
            super::push::follow_mode(user, chosen);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = user;
    };
    let ask = move |_| {
        #[cfg(feature = "hydrate")]
        if let Ok(promise) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
                let permission = web_sys::Notification::permission();
                askable.set(permission == web_sys::NotificationPermission::Default);
                granted.set(permission == web_sys::NotificationPermission::Granted);
            });
        }
    };
    let options = [
        (Mode::Private, "on, without names"),
        (Mode::WithNames, "on, with names"),
        (Mode::Off, "off"),
    ];
    view! {
        <Show when=move || askable.get()>
            <button type="button" class="button secondary small" on:click=ask>
                <span class="wide-only">"Notify me of new messages"</span>
                <span class="narrow-only">"Notifications"</span>
            </button>
        </Show>
        <Show when=move || granted.get()>
            <label class="notify-setting">
                "Notifications "
                <select on:change=choose prop:value=move || mode.get().as_str()>
                    {options
                        .into_iter()
                        .map(|(m, label)| view! { <option value=m.as_str() selected=move || mode.get() == m>{label}</option> })
                        .collect_view()}
                </select>
            </label>
        </Show>
    }
}
