//! Haven's duty of care: the crisis resources every screen shows, and honest availability
//! (office hours, leave, intake, real reply times) for the psychiatrists students write to.

pub mod form;
pub mod resources;
pub mod schedule;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use app::protocol::{Availability, AvailabilityState, CrisisResource, Timestamp, UserId};
use jiff::tz::TimeZone;

use crate::store::availability::{self as rows, AvailabilityRow, HoursRow};
use crate::store::{Db, StoreError};
pub use resources::ResourcesError;
use schedule::{OfficeBlock, Schedule};

/// Reply times are measured over this many days (whole UTC days of replies).
const REPLY_WINDOW_DAYS: i64 = 30;
/// How long a psychiatrist's reply time is believed (their own reply on this node forgets
/// it sooner): a median over a month barely moves in a minute, and the directory then costs
/// at most one small query per psychiatrist a minute, however long the history.
const REPLY_TIMES_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);
/// "Usually replies within" is shown only with at least this many replies measured.
pub const MIN_REPLIES: usize = 5;

/// The crisis resources from `path`, or, when none is configured, the emergency-services
/// fallback with a warning (an unconfigured service still shows where to turn).
pub fn crisis_resources(path: Option<&Path>) -> Result<Arc<[CrisisResource]>, ResourcesError> {
    match path {
        Some(path) => Ok(resources::load(path)?.into()),
        None => {
            tracing::warn!(
                "no crisis resources configured (HAVEN_CRISIS_RESOURCES): showing emergency \
                 services only; see docs/operating.md"
            );
            Ok(resources::fallback().into())
        }
    }
}

/// The service's time zone: office hours are read in it.
#[derive(Debug, Clone)]
pub struct ServiceTimeZone {
    pub tz: TimeZone,
    pub name: String,
}

impl ServiceTimeZone {
    /// The zone as people read it: "UTC" rather than "Etc/UTC", "America/New York" rather
    /// than "America/New_York".
    pub fn display_name(&self) -> String {
        match self.name.as_str() {
            "Etc/UTC" | "Etc/UCT" | "Etc/Universal" | "Etc/Zulu" | "Universal" | "Zulu" | "UCT" => {
                "UTC".to_owned()
            }
            "Etc/GMT" | "Etc/Greenwich" | "GMT" | "Greenwich" => "GMT".to_owned(),
            name => name.replace('_', " "),
        }
    }
}

/// Why the time zone setting was refused.
#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {name:?} (HAVEN_TIME_ZONE wants an IANA name such as Europe/London)")]
pub struct TimeZoneError {
    name: String,
    #[source]
    source: jiff::Error,
}

impl ServiceTimeZone {
    /// The named zone, or the machine's own (UTC if it has none).
    pub fn new(name: Option<&str>) -> Result<Self, TimeZoneError> {
        match name {
            Some(name) => TimeZone::get(name)
                .map(|tz| Self {
                    tz,
                    name: name.to_owned(),
                })
                .map_err(|source| TimeZoneError {
                    name: name.to_owned(),
                    source,
                }),
            None => {
                let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
                let name = tz.iana_name().unwrap_or("UTC").to_owned();
                Ok(Self { tz, name })
            }
        }
    }
}

/// A psychiatrist who is not answering now: since when, and what the student is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// When the current closed stretch began (end of the last office hours, or the
    /// start of a leave); `None` if not open in the last week.
    pub since: Option<Timestamp>,
    /// The after-hours notice: why nobody answers now, when they will, and where to turn
    /// meanwhile. In absolute dates: it is stored and read again later.
    pub notice: String,
}

/// Availability of psychiatrists: their settings (cached), what students are told, and
/// whether a message arrives out of hours.
pub struct Care {
    db: Db,
    zone: ServiceTimeZone,
    crisis: Arc<[CrisisResource]>,
    settings: Mutex<HashMap<UserId, Cached>>,
    /// Psychiatrists' usual reply times in hours, and when each was read.
    reply_times: Mutex<HashMap<UserId, (std::time::Instant, Option<u32>)>>,
    /// How long a cached entry is believed: for ever on one node (saving replaces it);
    /// with several nodes briefly, since another node may have saved new settings.
    fresh_for: Option<std::time::Duration>,
}

/// Settings as read at a moment.
#[derive(Clone)]
struct Cached {
    row: Arc<AvailabilityRow>,
    read: std::time::Instant,
}

impl Care {
    /// Availability over `db`, read in `zone`; notices name the `crisis` resources.
    pub fn new(db: Db, zone: ServiceTimeZone, crisis: Arc<[CrisisResource]>) -> Self {
        Self {
            db,
            zone,
            crisis,
            settings: Mutex::new(HashMap::new()),
            reply_times: Mutex::new(HashMap::new()),
            fresh_for: None,
        }
    }

    /// Believes cached settings for `fresh_for` only (several nodes: another may save).
    pub fn with_cache_lifetime(mut self, fresh_for: std::time::Duration) -> Self {
        self.fresh_for = Some(fresh_for);
        self
    }

    /// Today's date in the service's time zone.
    pub fn today(&self) -> jiff::civil::Date {
        jiff::Timestamp::now().to_zoned(self.zone.tz.clone()).date()
    }

    async fn settings(&self, psychiatrist: UserId) -> Result<Arc<AvailabilityRow>, StoreError> {
        let fresh = |cached: &&Cached| {
            self.fresh_for
                .is_none_or(|fresh_for| cached.read.elapsed() < fresh_for)
        };
        if let Some(found) = self.lock().get(&psychiatrist).filter(fresh) {
            return Ok(found.row.clone());
        }
        let read = std::time::Instant::now();
        let row = Arc::new(rows::get(&self.db, psychiatrist).await?);
        self.lock().insert(
            psychiatrist,
            Cached {
                row: row.clone(),
                read,
            },
        );
        Ok(row)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Cached>> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many hours `psychiatrist` usually takes to reply, as read at most
    /// [`REPLY_TIMES_FRESH_FOR`] ago (or since their last reply on this node).
    async fn usual_reply_hours(
        &self,
        psychiatrist: UserId,
        now: Timestamp,
    ) -> Result<Option<u32>, StoreError> {
        if let Some((read, hours)) = self.replies().get(&psychiatrist) {
            if read.elapsed() < REPLY_TIMES_FRESH_FOR {
                return Ok(*hours);
            }
        }
        let read = std::time::Instant::now();
        let first_day = jiff::Timestamp::from_millisecond(
            now.as_millis() - REPLY_WINDOW_DAYS * 24 * 3600 * 1000,
        )
        .map(|t| t.to_zoned(TimeZone::UTC).date())
        .unwrap_or_default();
        let hours =
            usual_reply_hours(rows::reply_waits_of(&self.db, psychiatrist, first_day).await?);
        self.replies().insert(psychiatrist, (read, hours));
        Ok(hours)
    }

    /// `who` wrote a message: if a psychiatrist, their reply time may have moved.
    pub fn wrote(&self, who: UserId) {
        self.replies().remove(&who);
    }

    fn replies(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<UserId, (std::time::Instant, Option<u32>)>> {
        self.reply_times.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored settings of `psychiatrist`, for their settings page.
    pub async fn stored(&self, psychiatrist: UserId) -> Result<AvailabilityRow, StoreError> {
        Ok((*self.settings(psychiatrist).await?).clone())
    }

    /// Replaces the settings of `psychiatrist` (already validated).
    pub async fn save(
        &self,
        psychiatrist: UserId,
        hours: &[HoursRow],
        back_on: Option<jiff::civil::Date>,
        note: &str,
        accepting_new: bool,
    ) -> Result<(), StoreError> {
        rows::set_hours(&self.db, psychiatrist, hours).await?;
        let back_on = back_on.map(|d| d.to_string());
        let away = back_on.as_deref().map(|d| (Timestamp::now(), d));
        rows::set_leave_and_intake(&self.db, psychiatrist, away, note, accepting_new).await?;
        self.lock().remove(&psychiatrist);
        Ok(())
    }

    /// What a student is told about `psychiatrist` at `now`.
    pub async fn availability(
        &self,
        psychiatrist: UserId,
        now: Timestamp,
    ) -> Result<Availability, StoreError> {
        let settings = self.settings(psychiatrist).await?;
        let (state, summary, next_open) = self.state(&settings, now);
        let usual_reply_hours = self.usual_reply_hours(psychiatrist, now).await?;
        Ok(Availability {
            state,
            summary,
            hours: settings.hours.iter().map(hours_line).collect(),
            time_zone: self.zone.display_name(),
            away_note: if state == AvailabilityState::Away {
                settings.away_note.clone()
            } else {
                String::new()
            },
            accepting_new: settings.accepting_new,
            usual_reply_hours,
            next_open,
        })
    }

    /// Whether `psychiatrist` is out of hours or away at `now`, and since when. A
    /// psychiatrist with no hours set and no leave is never "closed": nothing was promised.
    pub async fn closed(
        &self,
        psychiatrist: UserId,
        now: Timestamp,
    ) -> Result<Option<Closed>, StoreError> {
        let settings = self.settings(psychiatrist).await?;
        // Students, and psychiatrists who promised nothing: the common case, kept cheap
        // (every message asks).
        if settings.hours.is_empty() && settings.away.is_none() {
            return Ok(None);
        }
        let (state, _, next_open) = self.state(&settings, now);
        if !matches!(
            state,
            AvailabilityState::Away | AvailabilityState::OutOfHours
        ) {
            return Ok(None);
        }
        let blocks = blocks(&settings.hours);
        let schedule = self.schedule(&settings, &blocks);
        let since = match (state, schedule.away) {
            // Closed since the later of: the last office hours' end, the leave's start.
            (AvailabilityState::Away, Some((left, _))) => {
                Some(schedule.closed_since(now).map_or(left, |end| {
                    Timestamp::from_millis(end.as_millis().max(left.as_millis()))
                }))
            }
            _ => schedule.closed_since(now),
        };
        let why = match (state, &settings.away) {
            (AvailabilityState::Away, Some((_, back_on))) => {
                let back = back_on
                    .parse::<jiff::civil::Date>()
                    .map(|d| d.strftime("%A %-d %B").to_string())
                    .unwrap_or_else(|_| back_on.clone());
                format!("Your psychiatrist is away, back on {back}.")
            }
            _ => "Your psychiatrist is outside their office hours.".to_owned(),
        };
        let next = match next_open.and_then(|at| self.zoned(at)) {
            Some(at) => format!(
                " Next available: {} ({}).",
                at.strftime("%A %-d %B at %H:%M"),
                self.zone.display_name()
            ),
            None => String::new(),
        };
        let urgent: Vec<String> = self
            .crisis
            .iter()
            .filter(|r| r.urgent)
            .map(|r| match (&r.phone, &r.text, &r.link) {
                (Some(phone), _, _) => format!("call {phone} ({})", r.name),
                (None, Some(text), _) => format!("{text} ({})", r.name),
                (None, None, Some(link)) => format!("{} at {link}", r.name),
                (None, None, None) => r.name.clone(),
            })
            .collect();
        let notice = format!(
            "{why}{next} Your message has arrived and will be read then. If you cannot wait, \
             or you are in danger now: {}. Every crisis line and its hours: /help",
            urgent.join("; ")
        );
        Ok(Some(Closed { since, notice }))
    }

    fn schedule<'a>(
        &'a self,
        settings: &AvailabilityRow,
        blocks: &'a [OfficeBlock],
    ) -> Schedule<'a> {
        let away = settings
            .away
            .as_ref()
            .and_then(|(since, back_on)| Some((*since, back_on.parse().ok()?)));
        Schedule {
            blocks,
            away,
            tz: &self.zone.tz,
        }
    }

    fn state(
        &self,
        settings: &AvailabilityRow,
        now: Timestamp,
    ) -> (AvailabilityState, String, Option<Timestamp>) {
        let blocks = blocks(&settings.hours);
        let schedule = self.schedule(settings, &blocks);
        let next_open = schedule.next_open(now);
        if schedule.is_away(now) {
            let back = schedule
                .away
                .map(|(_, day)| day.strftime("%A %-d %B").to_string())
                .unwrap_or_default();
            let next = next_open
                .map(|at| format!("; next available {}", self.label(at, now)))
                .unwrap_or_default();
            return (
                AvailabilityState::Away,
                format!("Away, back on {back}{next}"),
                next_open,
            );
        }
        if blocks.is_empty() {
            return (
                AvailabilityState::NoHours,
                "No office hours set".to_owned(),
                None,
            );
        }
        match schedule.open_until(now) {
            Some(until) => (
                AvailabilityState::InHours,
                format!("In office hours until {}", self.clock(until)),
                None,
            ),
            None => (
                AvailabilityState::OutOfHours,
                match next_open {
                    Some(at) => format!(
                        "Out of office hours; next available {}",
                        self.label(at, now)
                    ),
                    None => "Out of office hours".to_owned(),
                },
                next_open,
            ),
        }
    }

    /// A moment in plain words in the service's time zone: "Sunday 6 December 2026, 10:40
    /// (Europe/London)" (exports and other pages that run no script).
    pub fn in_words(&self, at: Timestamp) -> String {
        match self.zoned(at) {
            Some(at) => format!(
                "{} ({})",
                at.strftime("%A %-d %B %Y, %H:%M"),
                self.zone.display_name()
            ),
            None => at.to_string(),
        }
    }

    fn zoned(&self, at: Timestamp) -> Option<jiff::Zoned> {
        jiff::Timestamp::from_millisecond(at.as_millis())
            .ok()
            .map(|t| t.to_zoned(self.zone.tz.clone()))
    }

    fn clock(&self, at: Timestamp) -> String {
        self.zoned(at)
            .map(|z| z.strftime("%H:%M").to_string())
            .unwrap_or_default()
    }

    /// "today at 09:00", "tomorrow at 09:00", "Monday 09:00", or a date further out.
    fn label(&self, at: Timestamp, now: Timestamp) -> String {
        let (Some(at), Some(now)) = (self.zoned(at), self.zoned(now)) else {
            return String::new();
        };
        let days = now
            .date()
            .until(at.date())
            .map(|s| s.get_days())
            .unwrap_or(i32::MAX);
        match days {
            0 => at.strftime("today at %H:%M").to_string(),
            1 => at.strftime("tomorrow at %H:%M").to_string(),
            2..=6 => at.strftime("%A at %H:%M").to_string(),
            _ => at.strftime("%A %-d %B at %H:%M").to_string(),
        }
    }
}

fn blocks(hours: &[HoursRow]) -> Vec<OfficeBlock> {
    hours
        .iter()
        .filter_map(|h| OfficeBlock::new(h.weekday, h.start_minute, h.end_minute))
        .collect()
}

/// Weekday names, Monday first (as `office_hours.weekday` counts).
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// "Monday 09:00–17:00".
fn hours_line(h: &HoursRow) -> String {
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    format!(
        "{} {}–{}",
        WEEKDAYS[usize::from(h.weekday.min(6))],
        hm(h.start_minute),
        hm(h.end_minute)
    )
}

/// The median of a psychiatrist's replies, given as `(whole hours, replies)` (each wait from
/// a student's first unanswered message to the psychiatrist's next message, rounded up, at
/// least 1); `None` with fewer than [`MIN_REPLIES`] replies.
pub fn usual_reply_hours(mut waits: Vec<(u32, u64)>) -> Option<u32> {
    let replies: u64 = waits.iter().map(|(_, n)| n).sum();
    if replies < MIN_REPLIES as u64 {
        return None;
    }
    waits.sort_unstable();
    // The upper median, as the list of single waits had it: the (n/2)-th, counting from 0.
    let mut before = 0;
    for (hours, n) in waits {
        before += n;
        if before > replies / 2 {
            return Some(hours.max(1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_named_as_people_read_them() {
        let zone = |name: &str| ServiceTimeZone {
            tz: TimeZone::UTC,
            name: name.into(),
        };
        assert_eq!(zone("Etc/UTC").display_name(), "UTC");
        assert_eq!(zone("America/New_York").display_name(), "America/New York");
        assert_eq!(zone("Europe/London").display_name(), "Europe/London");
    }

    #[test]
    fn reply_times_are_the_median_and_need_enough_replies() {
        // Five replies: after 1, 2, 3, 4 and 30 hours (two of them on another day).
        let waits = vec![(30, 1), (1, 1), (2, 1), (3, 1), (4, 1)];
        assert_eq!(usual_reply_hours(waits.clone()), Some(3));
        assert_eq!(usual_reply_hours(waits[..4].to_vec()), None);
        // Counted replies, not rows: four within an hour and one after a day.
        assert_eq!(usual_reply_hours(vec![(24, 1), (1, 4)]), Some(1));
        assert_eq!(usual_reply_hours(vec![(24, 3), (1, 3)]), Some(24));
    }

    #[test]
    fn hours_read_as_weekday_and_clock() {
        let row = HoursRow {
            weekday: 0,
            start_minute: 9 * 60,
            end_minute: 17 * 60 + 30,
        };
        assert_eq!(hours_line(&row), "Monday 09:00–17:30");
    }
}
