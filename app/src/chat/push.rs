//! "Notifications on this device" (Web Push), on the settings page. Nothing is asked of the
//! browser until the person presses the button: then the permission prompt, then the
//! subscription, handed to the server with this device's notification setting (the same
//! setting as the tab's own notifications: without names by default, or with names; never
//! the text). Not offered on a shared computer.

use leptos::prelude::*;

use super::notifications::Mode;
use crate::protocol::{PushOffer, PushWords, UserId};

/// Where this device stands (learnt in the browser only).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum DeviceState {
    Checking,
    /// No service worker or Push API here (or not a secure context).
    Unsupported,
    Off,
    /// The person refused the permission in the browser.
    Blocked,
    Working,
    On,
    Failed(String),
}

impl DeviceState {
    fn as_str(&self) -> &'static str {
        match self {
            DeviceState::Checking => "checking",
            DeviceState::Unsupported => "unsupported",
            DeviceState::Off => "off",
            DeviceState::Blocked => "blocked",
            DeviceState::Working => "working",
            DeviceState::On => "on",
            DeviceState::Failed(_) => "failed",
        }
    }
}

/// The words a push says on this device, from the tab's notification setting.
pub fn words_of(mode: Mode) -> PushWords {
    match mode {
        Mode::WithNames => PushWords::Names,
        Mode::Private | Mode::Off => PushWords::Private,
    }
}

/// The settings page's section (an island: push needs JavaScript). The server renders its
/// heading and the browser asks for the offer once hydrated.
#[cfg_attr(feature = "islands", island)]
#[cfg_attr(not(feature = "islands"), component)]
pub fn DeviceNotifications(user: UserId) -> impl IntoView {
    let offer: RwSignal<Option<Result<PushOffer, String>>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            let answer = crate::api::push::load_push_offer().await;
            offer.set(Some(answer.map_err(|e| e.message)));
        });
    });
    view! {
        <section aria-labelledby="device-notifications-title" class="device-notifications">
            <h2 id="device-notifications-title">"Notifications on this device"</h2>
            {move || match offer.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Ok(offer)) if offer.offered => view! { <PushControls offer user/> }.into_any(),
                Some(Ok(_)) => view! {
                    <p class="push-not-offered">
                        "Not offered on a shared computer: Haven leaves nothing on this device that says you use it. "
                        "Sign in on your own device to be told of replies."
                    </p>
                }
                .into_any(),
                Some(Err(message)) => view! { <p role="alert">{message}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn PushControls(offer: PushOffer, user: UserId) -> impl IntoView {
    let state = RwSignal::new(DeviceState::Checking);
    let words = RwSignal::new(PushWords::Private);
    let after_hours = RwSignal::new(false);
    let key = StoredValue::new(offer.public_key.clone());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        words.set(words_of(super::notifications::load(user)));
        after_hours.set(device::after_hours(user));
        leptos::task::spawn_local(async move { state.set(device::current().await) });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (user, key);
    let turn_on = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            state.set(DeviceState::Working);
            let chosen = (words.get_untracked(), after_hours.get_untracked());
            state.set(device::turn_on(&key.get_value(), chosen.0, chosen.1).await);
        });
    };
    let turn_off = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            state.set(DeviceState::Working);
            state.set(device::turn_off().await);
        });
    };
    // A new choice while on is handed to the server at once.
    let choose_words = move |ev: leptos::ev::Event| {
        let chosen = PushWords::parse(&event_target_value(&ev)).unwrap_or_default();
        words.set(chosen);
        #[cfg(feature = "hydrate")]
        {
            let mode = match chosen {
                PushWords::Names => Mode::WithNames,
                PushWords::Private => Mode::Private,
            };
            super::notifications::save(user, mode);
            if state.get_untracked() == DeviceState::On {
                leptos::task::spawn_local(async move {
                    state.set(device::resend(chosen, after_hours.get_untracked()).await);
                });
            }
        }
    };
    let choose_after_hours = move |ev: leptos::ev::Event| {
        let chosen = event_target_checked(&ev);
        after_hours.set(chosen);
        #[cfg(feature = "hydrate")]
        {
            device::keep_after_hours(user, chosen);
            if state.get_untracked() == DeviceState::On {
                leptos::task::spawn_local(async move {
                    state.set(device::resend(words.get_untracked(), chosen).await);
                });
            }
        }
    };
    let status = move || {
        match state.get() {
        DeviceState::Checking => String::new(),
        DeviceState::Unsupported => {
            "This browser can't show Haven's notifications. On an iPhone or iPad, add Haven to your Home Screen first (Share, then “Add to Home Screen”).".to_owned()
        }
        DeviceState::Off => "Off on this device.".to_owned(),
        DeviceState::Blocked => {
            "Notifications are blocked for Haven in this browser's settings; allow them there first.".to_owned()
        }
        DeviceState::Working => "One moment…".to_owned(),
        DeviceState::On => "On for this device.".to_owned(),
        DeviceState::Failed(message) => message,
    }
    };
    let on = move || state.get() == DeviceState::On;
    let can_turn_on = move || matches!(state.get(), DeviceState::Off | DeviceState::Failed(_));
    view! {
        <p>
            "When a reply arrives while Haven is closed, or has been in the background for a minute, "
            "this device can show a notification. It says only “New message in Haven”: no name and nothing "
            "of what was written, unless you choose to show who wrote. Your browser's push service "
            "(Google's, Apple's or Mozilla's) carries it encrypted: it can see when, never what."
        </p>
        <p class="push-options">
            <label>
                "The notification shows "
                <select on:change=choose_words prop:value=move || words.get().as_str()>
                    <option value="private" selected=move || words.get() == PushWords::Private>
                        "only “New message in Haven”"
                    </option>
                    <option value="names" selected=move || words.get() == PushWords::Names>
                        "who wrote (never what)"
                    </option>
                </select>
            </label>
        </p>
        {offer.psychiatrist.then(|| view! {
            <p class="push-options">
                <label>
                    <input type="checkbox" on:change=choose_after_hours prop:checked=move || after_hours.get()/>
                    " Also outside my office hours"
                </label>
                <span class="muted">" (off by default: students are told when to expect your answer)"</span>
            </p>
        })}
        <p class="push-state" role="status" aria-live="polite" data-push-state=move || state.get().as_str()>
            {status}
        </p>
        <p>
            <Show
                when=on
                fallback=move || view! {
                    <button type="button" class="button" on:click=turn_on disabled=move || !can_turn_on()>
                        "Turn on notifications on this device"
                    </button>
                }
            >
                <button type="button" class="button secondary" on:click=turn_off>
                    "Turn off notifications on this device"
                </button>
            </Show>
        </p>
    }
}

/// The tab's notification setting changed (the header's menu): this device's pushes follow
/// it, off included.
#[cfg(feature = "hydrate")]
pub fn follow_mode(user: UserId, mode: Mode) {
    leptos::task::spawn_local(async move {
        if device::current().await != DeviceState::On {
            return;
        }
        if mode == Mode::Off {
            device::turn_off().await;
        } else {
            device::resend(words_of(mode), device::after_hours(user)).await;
        }
    });
}

/// The browser's side: permission, service worker, push subscription.
#[cfg(feature = "hydrate")]
mod device {
    use serde::Deserialize;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        Notification, NotificationPermission, PushManager, PushSubscription,
        PushSubscriptionOptionsInit, ServiceWorkerRegistration,
    };

    use super::DeviceState;
    use crate::protocol::{PushWords, UserId};

    /// `PushSubscription.toJSON()`.
    #[derive(Deserialize)]
    struct Subscription {
        endpoint: String,
        keys: Keys,
    }

    #[derive(Deserialize)]
    struct Keys {
        p256dh: String,
        auth: String,
    }

    fn after_hours_key(user: UserId) -> String {
        format!("haven.push.after_hours.{user}")
    }

    pub fn after_hours(user: UserId) -> bool {
        crate::chat::preferences::load(&after_hours_key(user)).as_deref() == Some("1")
    }

    pub fn keep_after_hours(user: UserId, chosen: bool) {
        crate::chat::preferences::save(&after_hours_key(user), if chosen { "1" } else { "0" });
    }

    fn supported() -> bool {
        let window = leptos::prelude::window();
        let has = |name: &str| js_sys::Reflect::has(&window, &name.into()).unwrap_or(false);
        window.is_secure_context()
            && has("PushManager")
            && has("Notification")
            && js_sys::Reflect::has(&window.navigator(), &"serviceWorker".into()).unwrap_or(false)
    }

    async fn registration() -> Result<ServiceWorkerRegistration, JsValue> {
        let container = leptos::prelude::window().navigator().service_worker();
        // Registered at page load (public/install.js); again here in case it was not yet.
        JsFuture::from(container.register("/sw.js")).await?;
        Ok(JsFuture::from(container.ready()?).await?.unchecked_into())
    }

    async fn manager() -> Result<PushManager, JsValue> {
        registration().await?.push_manager()
    }

    async fn existing() -> Result<Option<PushSubscription>, JsValue> {
        let found = JsFuture::from(manager().await?.get_subscription()?).await?;
        Ok(found.dyn_into::<PushSubscription>().ok())
    }

    fn read(subscription: &PushSubscription) -> Option<Subscription> {
        let text = js_sys::JSON::stringify(subscription).ok()?.as_string()?;
        crate::protocol::json::from_text(&text).ok()
    }

    /// Where this device stands now.
    pub async fn current() -> DeviceState {
        if !supported() {
            return DeviceState::Unsupported;
        }
        if Notification::permission() == NotificationPermission::Denied {
            return DeviceState::Blocked;
        }
        match existing().await {
            Ok(Some(_)) if Notification::permission() == NotificationPermission::Granted => {
                DeviceState::On
            }
            Ok(_) => DeviceState::Off,
            Err(_) => DeviceState::Unsupported,
        }
    }

    async fn send(
        subscription: &PushSubscription,
        words: PushWords,
        after_hours: bool,
    ) -> DeviceState {
        let Some(found) = read(subscription) else {
            return DeviceState::Failed(
                "This browser gave Haven an unreadable subscription.".to_owned(),
            );
        };
        match crate::api::push::push_subscribe(
            found.endpoint,
            found.keys.p256dh,
            found.keys.auth,
            words.as_str().to_owned(),
            Some(after_hours),
        )
        .await
        {
            Ok(()) => DeviceState::On,
            Err(e) => {
                let _ = subscription.unsubscribe().map(JsFuture::from);
                DeviceState::Failed(e.message)
            }
        }
    }

    /// Asks the permission (this is the person's click), subscribes, and tells the server.
    pub async fn turn_on(key: &str, words: PushWords, after_hours: bool) -> DeviceState {
        if !supported() {
            return DeviceState::Unsupported;
        }
        if let Ok(promise) = Notification::request_permission() {
            let _ = JsFuture::from(promise).await;
        }
        match Notification::permission() {
            NotificationPermission::Granted => {}
            NotificationPermission::Denied => return DeviceState::Blocked,
            _ => return DeviceState::Off,
        }
        let subscribed = async {
            let manager = manager().await?;
            let options = PushSubscriptionOptionsInit::new();
            options.set_user_visible_only(true);
            options.set_application_server_key(&JsValue::from_str(key));
            let subscription: PushSubscription =
                JsFuture::from(manager.subscribe_with_options(&options)?)
                    .await?
                    .unchecked_into();
            Ok::<_, JsValue>(subscription)
        };
        match subscribed.await {
            Ok(subscription) => send(&subscription, words, after_hours).await,
            Err(_) => DeviceState::Failed(
                "This browser could not set up notifications. Try again later.".to_owned(),
            ),
        }
    }

    /// Hands this device's subscription to the server again with new choices.
    pub async fn resend(words: PushWords, after_hours: bool) -> DeviceState {
        match existing().await {
            Ok(Some(subscription)) => send(&subscription, words, after_hours).await,
            _ => DeviceState::Off,
        }
    }

    /// Tells the server to forget this device, then the browser.
    pub async fn turn_off() -> DeviceState {
        let Ok(Some(subscription)) = existing().await else {
            return DeviceState::Off;
        };
        if let Some(found) = read(&subscription) {
            if let Err(e) = crate::api::push::push_unsubscribe(found.endpoint).await {
                return DeviceState::Failed(e.message);
            }
        }
        if let Ok(promise) = subscription.unsubscribe() {
            let _ = JsFuture::from(promise).await;
        }
        DeviceState::Off
    }
}
