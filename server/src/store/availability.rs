//! Psychiatrists' office hours, leave and intake, and the times their replies took.

use app::protocol::{Timestamp, UserId};

use super::{dispatch, Db, StoreError};

/// One weekly block as stored: weekday (0 = Monday), minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursRow {
    pub weekday: u8,
    pub start_minute: u16,
    pub end_minute: u16,
}

/// A psychiatrist's availability settings as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AvailabilityRow {
    pub hours: Vec<HoursRow>,
    /// When the leave began and the day they are back (`YYYY-MM-DD`).
    pub away: Option<(Timestamp, String)>,
    pub away_note: String,
    pub accepting_new: bool,
}

/// The settings of `psychiatrist` (empty hours and no leave if never set).
pub async fn get(db: &Db, psychiatrist: UserId) -> Result<AvailabilityRow, StoreError> {
    dispatch!(db, availability::get(psychiatrist))
}

/// Replaces the weekly hours of `psychiatrist` with `hours`, in one transaction.
pub async fn set_hours(
    db: &Db,
    psychiatrist: UserId,
    hours: &[HoursRow],
) -> Result<(), StoreError> {
    dispatch!(db, availability::set_hours(psychiatrist, hours))
}

/// Sets (or with `None` ends) a leave, and whether new students may write. A leave already
/// under way keeps its start: the closed stretch began then.
pub async fn set_leave_and_intake(
    db: &Db,
    psychiatrist: UserId,
    away: Option<(Timestamp, &str)>,
    note: &str,
    accepting_new: bool,
) -> Result<(), StoreError> {
    dispatch!(
        db,
        availability::set_leave_and_intake(psychiatrist, away, note, accepting_new)
    )
}

/// A psychiatrist's replies since `since` (a UTC date), by how many whole hours each took:
/// `(hours, replies)`. Kept by the database as replies are stored (`reply_waits`), so this
/// reads a few rows per day, never messages.
pub async fn reply_waits_of(
    db: &Db,
    psychiatrist: UserId,
    since: jiff::civil::Date,
) -> Result<Vec<(u32, u64)>, StoreError> {
    dispatch!(db, availability::reply_waits_of(psychiatrist, since))
}
