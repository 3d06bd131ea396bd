//! `/chat/settings`: who else has opened the user's conversations (the access record), and
//! for a student their own data: download it, or delete the account. Plain forms and links:
//! everything works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use super::time::DateTimeLabel;
use crate::api::auth::{DeleteAccount, NewRecoveryCode};
use crate::api::chat::load_settings;
use crate::components::action_form::ActionForm;
use crate::components::{field::TextField, form_error::FormError};
use crate::error::Field;
use crate::protocol::json::resource;
use crate::protocol::{AccessEntry, AccountSettings, Role};

/// The settings page's address.
pub const SETTINGS_PAGE: &str = "/chat/settings";

/// The settings screen.
#[component]
pub fn SettingsPane() -> impl IntoView {
    let settings = resource(|| (), |_| load_settings());
    view! {
        <Title text="Settings · Haven"/>
        <Suspense fallback=|| view! { <section class="pane"><p class="muted">"Loading…"</p></section> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <Settings settings/> }.into_any(),
                    Err(e) => view! {
                        <section class="pane empty-state" role="alert"><p>{e.message}</p></section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Settings(settings: AccountSettings) -> impl IntoView {
    let student = settings.role == Role::Student;
    let me = use_context::<super::store::ChatStore>().map(|store| store.me);
    view! {
        <section class="pane settings" aria-labelledby="settings-title">
            <h1 id="settings-title">"Settings"</h1>
            {me.map(|user| view! { <super::push::DeviceNotifications user/> })}
            {if student {
                view! {
                    <AccessList entries=settings.access/>
                    <YourData/>
                    <NewRecoveryCodeForm/>
                    <DeleteAccountForm/>
                }
                .into_any()
            } else {
                view! {
                    <p>
                        "Your account belongs to the service: ask its administrator to change or remove it. "
                        "Who opens which conversation is in the service's access record (haven audit)."
                    </p>
                }
                .into_any()
            }}
        </section>
    }
}

/// Who else opened the user's conversations, newest first.
#[component]
fn AccessList(entries: Vec<AccessEntry>) -> impl IntoView {
    view! {
        <section aria-labelledby="access-title">
            <h2 id="access-title">"Who has opened your conversations"</h2>
            <p class="muted">
                "Every time someone opens a conversation of yours, Haven records who, when and how. "
                "The record cannot be changed. Your own visits are not listed here."
            </p>
            {if entries.is_empty() {
                view! { <p class="access-none">"Nobody else has opened your conversations yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="access-list">
                        {visits(&entries)
                            .into_iter()
                            .map(|visit| view! {
                                <li>
                                    <span class="who">{visit.who}</span>
                                    {format!(" {} · ", visit.words)}
                                    <DateTimeLabel at=visit.at/>
                                </li>
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// One line of the access list: someone's visit, however many records it made.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Visit {
    who: String,
    words: &'static str,
    /// When the visit began.
    at: crate::protocol::Timestamp,
}

/// How far apart one person's records may be and still read as one visit.
const VISIT_MILLIS: i64 = 30 * 60 * 1000;

/// Folds the record (newest first) into visits: what one person's opening of a conversation
/// recorded within half an hour (the page, earlier messages, the live connection) reads as
/// one visit; a download is a line of its own. The record itself keeps every entry.
fn visits(entries: &[AccessEntry]) -> Vec<Visit> {
    use crate::protocol::AccessKind;
    let mut out: Vec<Visit> = Vec::new();
    let mut last_of_visit: Option<i64> = None;
    for entry in entries {
        let who = match (&entry.who, entry.role) {
            (Some(name), Some(role)) => format!("{name} ({role})"),
            (Some(name), None) => name.clone(),
            (None, _) => "An administrator".to_owned(),
        };
        let words = match entry.kind {
            AccessKind::Export => "downloaded your conversations",
            AccessKind::Moderation => "removed a message in your group",
            AccessKind::Page | AccessKind::History | AccessKind::Socket => {
                "opened your conversation"
            }
        };
        let at = entry.at.as_millis();
        if let (Some(visit), Some(earliest)) = (out.last_mut(), last_of_visit) {
            if visit.who == who && visit.words == words && earliest - at <= VISIT_MILLIS {
                // Newest first: an older record moves the visit's start back.
                visit.at = entry.at;
                last_of_visit = Some(at);
                continue;
            }
        }
        out.push(Visit {
            who,
            words,
            at: entry.at,
        });
        last_of_visit = Some(at);
    }
    out
}

/// Downloads of everything the student wrote and received.
#[component]
fn YourData() -> impl IntoView {
    view! {
        <section aria-labelledby="data-title">
            <h2 id="data-title">"Your conversations"</h2>
            <p>"Download every message of every conversation you have in Haven."</p>
            <p class="downloads">
                <a class="button secondary" href="/account/export.html" download="haven-conversations.html">"Download as a page to read"</a>
                " "
                <a class="button secondary" href="/account/export.json" download="haven-conversations.json">"Download as JSON"</a>
            </p>
        </section>
    }
}

/// A form's error split for display: the password field's message, and any other.
fn password_confirmation_errors(
    error: impl Fn() -> Option<crate::error::AuthError> + Copy + Send + Sync + 'static,
) -> (Signal<Option<String>>, Signal<Option<String>>) {
    let password_error =
        Signal::derive(move || error().and_then(|e| e.field_message(Field::Password)));
    let form_error = Signal::derive(move || {
        error()
            .filter(|e| e.field_message(Field::Password).is_none())
            .map(|e| e.to_string())
    });
    (password_error, form_error)
}

/// A new recovery code, confirmed with the password: the old code stops working.
#[component]
fn NewRecoveryCodeForm() -> impl IntoView {
    let action = ServerAction::<NewRecoveryCode>::new();
    let (password_error, form_error) =
        password_confirmation_errors(move || action.value().get().and_then(Result::err));
    view! {
        <section aria-labelledby="recovery-title">
            <h2 id="recovery-title">"Recovery code"</h2>
            <p>
                "If you forget your password, your recovery code lets you set a new one. Lost it? "
                "Make a new one: the old code stops working."
            </p>
            <ActionForm action=action>
                <TextField label="Your current password" name="password" id="recovery-password"
                    kind="password" autocomplete="current-password" error=password_error/>
                <FormError message=form_error/>
                <button type="submit" class="button secondary" disabled=move || action.pending().get()>
                    "Make a new recovery code"
                </button>
            </ActionForm>
        </section>
    }
}

/// Deleting the account, confirmed with the password.
#[component]
fn DeleteAccountForm() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    let (password_error, form_error) =
        password_confirmation_errors(move || action.value().get().and_then(Result::err));
    view! {
        <section aria-labelledby="delete-title" class="danger-zone">
            <h2 id="delete-title">"Delete your account"</h2>
            <p>
                "Your sign-in name, your password and your name are removed, and the text of every "
                "message you wrote is erased; the psychiatrists you wrote to see \"Deleted account\" "
                "in its place. Their own replies are kept for the service's retention period. "
                "This cannot be undone: download your conversations first if you want to keep them."
            </p>
            <ActionForm action=action>
                <TextField label="Your password, to confirm" name="password" kind="password"
                    autocomplete="current-password" error=password_error/>
                <FormError message=form_error/>
                <button type="submit" class="button danger" disabled=move || action.pending().get()>
                    "Delete my account"
                </button>
            </ActionForm>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{AccessKind, Timestamp};

    fn entry(at_minutes: i64, who: &str, kind: AccessKind) -> AccessEntry {
        AccessEntry {
            at: Timestamp::from_millis(1_800_000_000_000 + at_minutes * 60_000),
            who: Some(who.into()),
            role: Some(Role::Psychiatrist),
            kind,
        }
    }

    #[test]
    fn one_opening_reads_as_one_visit() {
        // Newest first, as the server lists them.
        let record = [
            entry(240, "Dr. A", AccessKind::Export),
            entry(120, "Dr. A", AccessKind::Socket),
            entry(119, "Dr. A", AccessKind::History),
            entry(119, "Dr. A", AccessKind::Page),
            entry(100, "Dr. B", AccessKind::Page),
            entry(10, "Dr. A", AccessKind::Page),
        ];
        let shown: Vec<(String, &str, i64)> = visits(&record)
            .into_iter()
            .map(|v| {
                (
                    v.who,
                    v.words,
                    (v.at.as_millis() - 1_800_000_000_000) / 60_000,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "Dr. A (psychiatrist)".into(),
                    "downloaded your conversations",
                    240
                ),
                (
                    "Dr. A (psychiatrist)".into(),
                    "opened your conversation",
                    119
                ),
                (
                    "Dr. B (psychiatrist)".into(),
                    "opened your conversation",
                    100
                ),
                (
                    "Dr. A (psychiatrist)".into(),
                    "opened your conversation",
                    10
                ),
            ]
        );
    }
}
