//! Times in the viewer's locale. The server renders UTC (it cannot know the locale); once
//! hydrated, the browser rewrites them in local time.

use leptos::prelude::*;

use crate::protocol::Timestamp;

/// `HH:MM` of an RFC 3339 time, in UTC.
fn utc_clock(rfc3339: &str) -> String {
    rfc3339.get(11..16).unwrap_or_default().to_owned()
}

/// The local `HH:MM` (browser) or UTC (server, before hydration).
#[component]
pub fn Clock(at: Timestamp) -> impl IntoView {
    let at = at.to_string();
    let text = RwSignal::new(utc_clock(&at));
    #[cfg(feature = "hydrate")]
    {
        let at = at.clone();
        Effect::new(move |_| {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&at));
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"hour".into(), &"2-digit".into());
            let _ = js_sys::Reflect::set(&options, &"minute".into(), &"2-digit".into());
            if let Some(local) = date
                .to_locale_time_string_with_options("default", &options)
                .as_string()
            {
                text.set(local);
            }
        });
    }
    view! { <time datetime=at>{text}</time> }
}

/// The date of `at` as text: `YYYY-MM-DD` (UTC) on the server and until hydrated, then the
/// browser's local date with these `Intl` fields (e.g. `[("month", "long")]`).
fn local_date(at: &str, fields: &'static [(&'static str, &'static str)]) -> RwSignal<String> {
    local_text(at, at.get(0..10).unwrap_or_default().to_owned(), fields)
}

/// `fallback` on the server and until hydrated, then `at` in the browser's locale and time
/// zone with these `Intl` fields (date fields, time fields or both).
fn local_text(
    at: &str,
    fallback: String,
    fields: &'static [(&'static str, &'static str)],
) -> RwSignal<String> {
    let text = RwSignal::new(fallback);
    #[cfg(feature = "hydrate")]
    {
        let at = at.to_owned();
        Effect::new(move |_| {
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&at));
            let options = js_sys::Object::new();
            for (field, style) in fields {
                let _ = js_sys::Reflect::set(&options, &(*field).into(), &(*style).into());
            }
            if let Some(local) = date.to_locale_string("default", &options).as_string() {
                text.set(local);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (at, fields);
    text
}

/// A moment in words ("Sunday 6 December, 10:40") in the browser's time zone; on the server
/// and until hydrated, `2026-12-06 10:40 UTC` (never milliseconds).
#[component]
pub fn DateTimeLabel(at: Timestamp) -> impl IntoView {
    let at = at.to_string();
    let fallback = format!(
        "{} {} UTC",
        at.get(0..10).unwrap_or_default(),
        at.get(11..16).unwrap_or_default()
    );
    let text = local_text(
        &at,
        fallback,
        &[
            ("weekday", "long"),
            ("day", "numeric"),
            ("month", "long"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
        ],
    );
    view! { <time datetime=at>{text}</time> }
}

/// A day separator in the history: "Monday 23 November" in the browser.
#[component]
pub fn DayLabel(at: Timestamp) -> impl IntoView {
    let text = local_date(
        &at.to_string(),
        &[("weekday", "long"), ("month", "long"), ("day", "numeric")],
    );
    // A plain list item: an `<ol>` may hold only items (a `separator` role breaks the list
    // for screen readers).
    view! { <li class="day-separator"><span>{text}</span></li> }
}

/// A date in a sentence ("Writing since 3 November 2026") in the browser.
#[component]
pub fn DateLabel(at: Timestamp) -> impl IntoView {
    let at = at.to_string();
    let text = local_date(
        &at,
        &[("year", "numeric"), ("month", "long"), ("day", "numeric")],
    );
    view! { <time datetime=at>{text}</time> }
}

/// The UTC day (days since 1970), to decide where day separators go.
pub fn day_of(at: Timestamp) -> i64 {
    at.as_millis().div_euclid(86_400_000)
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago" — from the browser's clock.
/// (Only called after hydration; the server cannot know the viewer's clock.)
pub fn relative(at: Timestamp) -> String {
    // Elapsed time needs no time zone, so the server can say it too (pages without
    // JavaScript show "last seen 5 minutes ago"); the browser keeps it current.
    #[cfg(feature = "hydrate")]
    let now = js_sys::Date::now() as i64;
    #[cfg(not(feature = "hydrate"))]
    let now = Timestamp::now().as_millis();
    let seconds = u64::try_from((now - at.as_millis()) / 1000).unwrap_or(0);
    let plural = |n: u64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match seconds {
        0..=59 => "just now".to_owned(),
        60..=3599 => plural(seconds / 60, "minute"),
        3600..=86_399 => plural(seconds / 3600, "hour"),
        _ => plural(seconds / 86_400, "day"),
    }
}

/// A full local date and time for tooltips (the browser's locale); RFC 3339 on the server.
pub fn local_datetime(at: Timestamp) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at.as_millis() as f64));
        if let Some(text) = date
            .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
            .as_string()
        {
            return text;
        }
    }
    at.to_string()
}

/// For texts relative to now ("5 minutes ago"): whether the page is hydrated (the server
/// cannot know the viewer's clock, so it renders something absolute until then), and a
/// signal that ticks every `seconds` while the component lives.
pub fn ticking(seconds: u64) -> (RwSignal<bool>, RwSignal<u32>) {
    let hydrated = RwSignal::new(false);
    let tick = RwSignal::new(0u32);
    Effect::new(move |_| hydrated.set(true));
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t = t.wrapping_add(1)),
            std::time::Duration::from_secs(seconds),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = seconds;
    (hydrated, tick)
}
