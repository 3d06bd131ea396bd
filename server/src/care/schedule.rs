//! When a psychiatrist is available: weekly office hours in the service's time zone, minus
//! a stretch away. Pure arithmetic over absolute times, so daylight-saving changes and
//! midnight are jiff's problem, not ours.

use app::protocol::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// How far ahead "next available" is looked for: a week past the end of any leave, and
/// never more than this.
const LOOKAHEAD_DAYS: i64 = 400;
/// How far back the end of the last open stretch is looked for.
const LOOKBEHIND_DAYS: i64 = 8;

/// One weekly stretch of office hours: a weekday (0 = Monday) and minutes after midnight,
/// `start < end <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeBlock {
    pub weekday: u8,
    pub start: u16,
    pub end: u16,
}

impl OfficeBlock {
    /// A block, if it is one (weekday 0..=6, 0 <= start < end <= 24:00).
    pub fn new(weekday: u8, start: u16, end: u16) -> Option<Self> {
        (weekday < 7 && start < end && end <= 1440).then_some(Self {
            weekday,
            start,
            end,
        })
    }
}

/// A psychiatrist's week and leave, in the service's time zone.
#[derive(Debug, Clone)]
pub struct Schedule<'a> {
    pub blocks: &'a [OfficeBlock],
    /// Away from `since` until the start of `back_on` (local midnight).
    pub away: Option<(Timestamp, Date)>,
    pub tz: &'a TimeZone,
}

/// A half-open stretch of time `[start, end)` in milliseconds.
type Span = (i64, i64);

impl Schedule<'_> {
    /// Whether they are in office hours and not away at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.open_stretches(at)
            .iter()
            .any(|&(s, e)| s <= at.as_millis() && at.as_millis() < e)
    }

    /// If open at `now`: when this stretch of office hours ends.
    pub fn open_until(&self, now: Timestamp) -> Option<Timestamp> {
        self.open_stretches(now)
            .into_iter()
            .find(|&(s, e)| s <= now.as_millis() && now.as_millis() < e)
            .map(|(_, e)| Timestamp::from_millis(e))
    }

    /// If closed at `now`: when they are next in office hours (none if they have no hours).
    pub fn next_open(&self, now: Timestamp) -> Option<Timestamp> {
        if self.is_open(now) {
            return None;
        }
        self.open_stretches(now)
            .into_iter()
            .map(|(s, _)| s)
            .find(|&s| s > now.as_millis())
            .map(Timestamp::from_millis)
    }

    /// If closed at `now`: when the current closed stretch began (the end of the last
    /// open one), or `None` if they were not open in the last week. A notice is posted
    /// once per closed stretch.
    pub fn closed_since(&self, now: Timestamp) -> Option<Timestamp> {
        if self.is_open(now) {
            return None;
        }
        self.open_stretches(now)
            .into_iter()
            .map(|(_, e)| e)
            .filter(|&e| e <= now.as_millis())
            .max()
            .map(Timestamp::from_millis)
    }

    /// Whether they are away at `at`.
    pub fn is_away(&self, at: Timestamp) -> bool {
        self.away_span()
            .is_some_and(|(s, e)| s <= at.as_millis() && at.as_millis() < e)
    }

    fn away_span(&self) -> Option<Span> {
        let (since, back_on) = self.away?;
        Some((since.as_millis(), local_midnight(back_on, self.tz)?))
    }

    /// Every open stretch around `now` (a week back, and ahead past the leave), merged
    /// where one block ends as the next begins, in time order.
    fn open_stretches(&self, now: Timestamp) -> Vec<Span> {
        if self.blocks.is_empty() {
            return Vec::new();
        }
        let Some(today) = jiff::Timestamp::from_millisecond(now.as_millis())
            .ok()
            .map(|t| t.to_zoned(self.tz.clone()).date())
        else {
            return Vec::new();
        };
        let leave_days = self
            .away
            .and_then(|(_, back_on)| today.until(back_on).ok())
            .map_or(0, |span| i64::from(span.get_days()).max(0));
        let ahead = (leave_days + 8).min(LOOKAHEAD_DAYS);
        let mut spans: Vec<Span> = Vec::new();
        for offset in -LOOKBEHIND_DAYS..=ahead {
            let Ok(day) = today.checked_add(jiff::Span::new().days(offset)) else {
                continue;
            };
            let weekday = day.weekday().to_monday_zero_offset() as u8;
            for block in self.blocks.iter().filter(|b| b.weekday == weekday) {
                if let (Some(s), Some(e)) = (
                    local_minute(day, block.start, self.tz),
                    local_minute(day, block.end, self.tz),
                ) {
                    spans.extend(subtract((s, e), self.away_span()));
                }
            }
        }
        spans.sort_unstable();
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        merged
    }
}

/// `span` without `away`: none, one or two pieces.
fn subtract(span: Span, away: Option<Span>) -> Vec<Span> {
    let Some((a, b)) = away else {
        return vec![span];
    };
    let (s, e) = span;
    let mut pieces = Vec::new();
    if s < a.min(e) {
        pieces.push((s, a.min(e)));
    }
    if b.max(s) < e {
        pieces.push((b.max(s), e));
    }
    pieces
}

/// Milliseconds of `minute` minutes after local midnight of `day` (1440 is the next
/// midnight).
fn local_minute(day: Date, minute: u16, tz: &TimeZone) -> Option<i64> {
    let day_start = local_midnight(day, tz)?;
    let (day, minute) = if minute >= 1440 {
        (day.tomorrow().ok()?, minute - 1440)
    } else {
        (day, minute)
    };
    let time = jiff::civil::Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?;
    let at = day.to_datetime(time).to_zoned(tz.clone()).ok()?;
    Some(at.timestamp().as_millisecond()).filter(|&ms| ms >= day_start)
}

fn local_midnight(day: Date, tz: &TimeZone) -> Option<i64> {
    day.to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, tz: &TimeZone) -> Timestamp {
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        Timestamp::from_millis(
            dt.to_zoned(tz.clone())
                .unwrap()
                .timestamp()
                .as_millisecond(),
        )
    }

    fn weekdays_nine_to_five() -> Vec<OfficeBlock> {
        (0..5)
            .map(|d| OfficeBlock::new(d, 9 * 60, 17 * 60).unwrap())
            .collect()
    }

    #[test]
    fn office_hours_open_and_close_in_the_services_time_zone() {
        let tz = TimeZone::get("Europe/London").unwrap();
        let blocks = weekdays_nine_to_five();
        let schedule = Schedule {
            blocks: &blocks,
            away: None,
            tz: &tz,
        };
        // 2026-11-23 is a Monday.
        let noon = at("2026-11-23T12:00", &tz);
        assert!(schedule.is_open(noon));
        assert_eq!(schedule.open_until(noon), Some(at("2026-11-23T17:00", &tz)));
        let night = at("2026-11-24T02:00", &tz);
        assert!(!schedule.is_open(night));
        assert_eq!(schedule.next_open(night), Some(at("2026-11-24T09:00", &tz)));
        assert_eq!(
            schedule.closed_since(night),
            Some(at("2026-11-23T17:00", &tz))
        );
        // Friday evening: next is Monday.
        let friday = at("2026-11-27T18:30", &tz);
        assert_eq!(
            schedule.next_open(friday),
            Some(at("2026-11-30T09:00", &tz))
        );
    }

    #[test]
    fn a_leave_closes_the_hours_until_the_day_back() {
        let tz = TimeZone::get("Europe/London").unwrap();
        let blocks = weekdays_nine_to_five();
        let since = at("2026-11-23T12:00", &tz);
        let back_on: Date = "2026-12-02".parse().unwrap();
        let schedule = Schedule {
            blocks: &blocks,
            away: Some((since, back_on)),
            tz: &tz,
        };
        let later = at("2026-11-25T10:00", &tz);
        assert!(schedule.is_away(later) && !schedule.is_open(later));
        assert_eq!(schedule.next_open(later), Some(at("2026-12-02T09:00", &tz)));
        // The closed stretch began when they left, mid-block.
        assert_eq!(schedule.closed_since(later), Some(since));
    }

    #[test]
    fn blocks_that_meet_are_one_stretch_and_midnight_ends_a_day() {
        let tz = TimeZone::UTC;
        let blocks = [
            OfficeBlock::new(0, 20 * 60, 1440).unwrap(),
            OfficeBlock::new(1, 0, 2 * 60).unwrap(),
        ];
        let schedule = Schedule {
            blocks: &blocks,
            away: None,
            tz: &tz,
        };
        let late = at("2026-11-23T23:00", &tz);
        assert_eq!(schedule.open_until(late), Some(at("2026-11-24T02:00", &tz)));
        assert!(OfficeBlock::new(7, 0, 60).is_none() && OfficeBlock::new(0, 60, 60).is_none());
    }

    #[test]
    fn no_hours_means_never_open() {
        let tz = TimeZone::UTC;
        let schedule = Schedule {
            blocks: &[],
            away: None,
            tz: &tz,
        };
        let now = at("2026-11-23T12:00", &tz);
        assert!(!schedule.is_open(now));
        assert_eq!(schedule.next_open(now), None);
        assert_eq!(schedule.closed_since(now), None);
    }
}
