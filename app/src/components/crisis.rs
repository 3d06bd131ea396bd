//! Where to turn in a crisis, on every screen: a short "not for emergencies" notice naming
//! the urgent lines, one tap from the full list on `/help`. Rendered on the server, so it
//! reads the same without JavaScript.

use leptos::prelude::*;

use crate::api::care::crisis_resources;
use crate::protocol::json::{resource, Resource};
use crate::protocol::{AckError, CrisisResource};

/// The page's crisis resources: loaded once per page, serialized into the server's HTML
/// and read from there when the browser hydrates.
#[derive(Clone, Copy)]
pub struct CrisisResources(pub Resource<Result<Vec<CrisisResource>, AckError>>);

/// Loads the crisis resources for every component below.
pub fn provide_crisis_resources() {
    provide_context(CrisisResources(resource(|| (), |_| crisis_resources())));
}

/// The list itself, when an island was given it as a prop: its views render it at once, the
/// same on the server and in the browser (an island cannot share the page's resource).
#[derive(Clone)]
pub struct KnownCrisisResources(pub Vec<CrisisResource>);

/// The resources, whether or not a parent provided them.
fn resources() -> Resource<Result<Vec<CrisisResource>, AckError>> {
    use_context::<CrisisResources>()
        .map(|r| r.0)
        .unwrap_or_else(|| resource(|| (), |_| crisis_resources()))
}

/// "Not for emergencies. If you are in danger now: call 999 (Emergency services) … · All
/// crisis lines". A complementary landmark, so screen readers list it.
#[component]
pub fn CrisisNotice() -> impl IntoView {
    if let Some(KnownCrisisResources(list)) = use_context::<KnownCrisisResources>() {
        return view! { <CrisisNoticeOf list/> }.into_any();
    }
    let resources = resources();
    // Every piece is an element or one text node: adjacent text nodes merge in the
    // server's HTML and would not hydrate.
    let fallback =
        || view! { <span>" If you are in danger now, call your local emergency number."</span> };
    view! {
        <aside class="crisis" aria-label="Urgent help">
            <p>
                <strong>"Not for emergencies."</strong>
                <Suspense fallback=fallback>
                    {move || Suspend::new(async move {
                        let list = resources.await.unwrap_or_default();
                        view! { <UrgentLines list/> }
                    })}
                </Suspense>
                <span>" "</span>
                <a class="link" href="/help">"All crisis lines and hours"</a>
            </p>
        </aside>
    }
    .into_any()
}

/// [`CrisisNotice`] of a list already loaded.
#[component]
fn CrisisNoticeOf(list: Vec<CrisisResource>) -> impl IntoView {
    view! {
        <aside class="crisis" aria-label="Urgent help">
            <p>
                <strong>"Not for emergencies."</strong>
                <UrgentLines list/>
                <span>" "</span>
                <a class="link" href="/help">"All crisis lines and hours"</a>
            </p>
        </aside>
    }
}

/// "If you are in danger now: call 999 (Emergency services), …": the urgent lines of `list`.
#[component]
fn UrgentLines(list: Vec<CrisisResource>) -> impl IntoView {
    let urgent: Vec<_> = list.into_iter().filter(|r| r.urgent).collect();
    let last = urgent.len().saturating_sub(1);
    view! {
        <span>" If you are in danger now: "</span>
        {urgent
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let end = if i < last { ", " } else { "." };
                view! { <Reach resource=r end/> }
            })
            .collect_view()}
    }
}

/// The quickest way to reach one resource: its phone, else its text line, else its link.
/// `end` follows it (", " or ".").
#[component]
fn Reach(resource: CrisisResource, end: &'static str) -> impl IntoView {
    let named = format!(" ({}){end}", resource.name);
    match (resource.tel_href(), &resource.text, &resource.link) {
        (Some(tel), _, _) => {
            let phone = resource.phone.clone().unwrap_or_default();
            view! { <span class="reach-item">"call " <a href=tel class="reach">{phone}</a> {named}</span> }
                .into_any()
        }
        (None, Some(text), _) => {
            view! { <span class="reach-item"><span class="reach">{text.clone()}</span> {named}</span> }
                .into_any()
        }
        (None, None, Some(link)) => view! {
            <span class="reach-item">
                <a href=link.clone() class="reach" rel="noopener noreferrer" target="_blank">"go to their site"</a>
                {named}
            </span>
        }
        .into_any(),
        (None, None, None) => ().into_any(),
    }
}

/// The full list, for `/help` and the conversation's notices.
#[component]
pub fn CrisisList() -> impl IntoView {
    if let Some(KnownCrisisResources(list)) = use_context::<KnownCrisisResources>() {
        return view! {
            <ul class="crisis-list">
                {list.into_iter().map(|r| view! { <CrisisCard resource=r/> }).collect_view()}
            </ul>
        }
        .into_any();
    }
    let resources = resources();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match resources.await {
                    Ok(list) => view! {
                        <ul class="crisis-list">
                            {list.into_iter().map(|r| view! { <CrisisCard resource=r/> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                    Err(_) => view! {
                        <p role="alert">"If you are in danger now, call your local emergency number."</p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}

#[component]
fn CrisisCard(resource: CrisisResource) -> impl IntoView {
    let tel = resource.tel_href();
    view! {
        <li class="crisis-card" class:urgent=resource.urgent>
            <h2>{resource.name.clone()}</h2>
            {(!resource.description.is_empty()).then(|| view! { <p>{resource.description.clone()}</p> })}
            <dl>
                {resource.phone.clone().zip(tel).map(|(phone, tel)| view! {
                    <dt>"Phone"</dt>
                    <dd><a href=tel>{phone}</a></dd>
                })}
                {resource.text.clone().map(|text| view! { <dt>"Text"</dt> <dd>{text}</dd> })}
                {resource.link.clone().map(|link| view! {
                    <dt>"Web"</dt>
                    <dd><a href=link.clone() rel="noopener noreferrer" target="_blank">{link.clone()}</a></dd>
                })}
                <dt>"Hours"</dt>
                <dd>{resource.hours.clone()}</dd>
            </dl>
        </li>
    }
}
