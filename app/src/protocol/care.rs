//! What Haven shows so that nobody is left alone with a message: the crisis resources the
//! service configured.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The service's crisis resources, as the server provides them to every page (Leptos
/// context); read at start, never changed while running.
#[derive(Debug, Clone)]
pub struct CrisisList(pub Arc<[CrisisResource]>);

/// One place a person in crisis can turn to, as the service configured it (validated at
/// start: see `server/src/care/resources.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrisisResource {
    /// "Campus counselling line", "Emergency services".
    pub name: String,
    /// One sentence on who it is for; may be empty.
    pub description: String,
    /// A number to call, as it should be read ("+44 20 7946 0000").
    pub phone: Option<String>,
    /// How to reach it by text ("Text SHOUT to 85258").
    pub text: Option<String>,
    /// An `https://` page.
    pub link: Option<String>,
    /// When it answers ("24/7", "Mon–Fri 9:00–17:00").
    pub hours: String,
    /// Named in the short notice on every screen, not only in the full list.
    pub urgent: bool,
}

impl CrisisResource {
    /// The `tel:` address of its phone number: `+` and digits only.
    pub fn tel_href(&self) -> Option<String> {
        let phone = self.phone.as_deref()?;
        let digits: String = phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        (!digits.is_empty()).then(|| format!("tel:{digits}"))
    }
}

/// Where a psychiatrist stands, as the server computed it (in the service's time zone)
/// when the page was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AvailabilityState {
    /// In office hours now.
    InHours,
    /// On leave.
    Away,
    /// Outside office hours.
    OutOfHours,
    /// No office hours set: nothing is promised.
    NoHours,
}

/// What a student is told about when a psychiatrist answers: honest, from the
/// psychiatrist's own settings and real reply times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    pub state: AvailabilityState,
    /// One sentence: "In office hours until 17:00", "Away until Wednesday 2 December",
    /// "Next available Monday 09:00".
    pub summary: String,
    /// The weekly hours, one line a block: "Monday 09:00–17:00".
    pub hours: Vec<String>,
    /// The time zone the hours are in ("Europe/London").
    pub time_zone: String,
    /// The psychiatrist's own words about a leave; empty if none.
    pub away_note: String,
    /// Whether new students may start a conversation.
    pub accepting_new: bool,
    /// Half of their replies in the last 30 days came within this many hours; `None`
    /// until there are enough replies to say.
    pub usual_reply_hours: Option<u32>,
    /// When they are next in office hours (for the after-hours notice).
    pub next_open: Option<super::Timestamp>,
}

impl Availability {
    /// "Usually replies within 3 hours", when known.
    pub fn reply_line(&self) -> Option<String> {
        self.usual_reply_hours.map(|h| match h {
            0 | 1 => "Usually replies within an hour".to_owned(),
            h if h < 48 => format!("Usually replies within {h} hours"),
            h => format!("Usually replies within {} days", h.div_ceil(24)),
        })
    }
}

/// A psychiatrist's availability settings as their form holds them: per weekday (Monday
/// first) a start and end `HH:MM` (both empty: no hours that day), the day they are back
/// from a leave (`YYYY-MM-DD`, empty: not away), a note for students, and whether new
/// students may write.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityForm {
    pub days: Vec<(String, String)>,
    pub back_on: String,
    pub away_note: String,
    pub accepting_new: bool,
}

/// The settings page: the form as stored, and what students see now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilitySettings {
    pub form: AvailabilityForm,
    pub availability: Availability,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tel_links_keep_only_digits_and_plus() {
        let resource = CrisisResource {
            name: "Line".into(),
            description: String::new(),
            phone: Some("+44 (0)20 7946-0000".into()),
            text: None,
            link: None,
            hours: "24/7".into(),
            urgent: true,
        };
        assert_eq!(resource.tel_href().as_deref(), Some("tel:+4402079460000"));
    }
}
