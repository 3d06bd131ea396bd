//! `/chat/availability`: a psychiatrist's office hours, leave and intake, and what students
//! see of them. A plain form: it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::{availability_settings, SaveAvailability};
use crate::components::action_form::ActionForm;
use crate::components::form_error::FormError;
use crate::protocol::json::resource;
use crate::protocol::AvailabilitySettings;

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

/// The availability screen.
#[component]
pub fn AvailabilityPane() -> impl IntoView {
    // Reloaded after each save: what students see now is the point of the page.
    let action = ServerAction::<SaveAvailability>::new();
    let settings = resource(move || action.version().get(), |_| availability_settings());
    view! {
        <Title text="Availability · Haven"/>
        <Suspense fallback=|| view! { <section class="pane"><p class="muted">"Loading…"</p></section> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <AvailabilityForm settings action/> }.into_any(),
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
fn AvailabilityForm(
    settings: AvailabilitySettings,
    action: ServerAction<SaveAvailability>,
) -> impl IntoView {
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message)
    });
    let AvailabilitySettings { form, availability } = settings;
    let reply = availability
        .reply_line()
        .unwrap_or_else(|| "Not enough replies in the last 30 days to say yet.".to_owned());
    view! {
        <section class="pane availability" aria-labelledby="availability-title">
            <h1 id="availability-title">"Your availability"</h1>
            <p class="lede">
                "Students see this before they write, and an automatic notice tells anyone who writes "
                "outside your hours when you are next available."
            </p>
            <div class="card-inline" aria-label="What students see now">
                <p class="availability-now" data-state=format!("{:?}", availability.state)>{availability.summary.clone()}</p>
                <p class="muted reply-time">{reply}</p>
            </div>
            <ActionForm action=action>
                <fieldset>
                    <legend>"Office hours (" {availability.time_zone.clone()} ")"</legend>
                    <p class="muted">"Leave a day empty if you do not work that day."</p>
                    {DAYS
                        .iter()
                        .zip(form.days.iter().cloned())
                        .map(|((key, day), (start, end))| view! {
                            <div class="hours-row">
                                <span class="day">{*day}</span>
                                <label>
                                    <span class="visually-hidden">{format!("{day} from")}</span>
                                    <input type="time" name=format!("{key}_start") value=start/>
                                </label>
                                "–"
                                <label>
                                    <span class="visually-hidden">{format!("{day} until")}</span>
                                    <input type="time" name=format!("{key}_end") value=end/>
                                </label>
                            </div>
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Leave"</legend>
                    <label class="field">
                        <span>"Away until (the day you are back; empty if not away)"</span>
                        <input type="date" name="back_on" value=form.back_on.clone()/>
                    </label>
                    <label class="field">
                        <span>"A note for students while you are away (optional)"</span>
                        <input type="text" name="away_note" maxlength="200" value=form.away_note.clone()/>
                    </label>
                </fieldset>
                <label class="check">
                    <input type="checkbox" name="accepting_new" value="on" checked=form.accepting_new/>
                    " Accept new students (students already writing to you can always continue)"
                </label>
                <FormError message=error/>
                <button type="submit" class="button" disabled=move || action.pending().get()>"Save"</button>
            </ActionForm>
        </section>
    }
}
