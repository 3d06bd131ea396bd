//! A psychiatrist's availability form, checked: the hours, the leave and the note as the
//! store keeps them, or a sentence saying what to fix.

use app::protocol::AvailabilityForm;
use jiff::civil::Date;

use crate::store::availability::{AvailabilityRow, HoursRow};

/// The longest away note, in characters.
pub const MAX_NOTE_CHARS: usize = 200;

/// A checked form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub hours: Vec<HoursRow>,
    pub back_on: Option<Date>,
    pub note: String,
    pub accepting_new: bool,
}

/// `HH:MM` as minutes after midnight.
fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Checks `form`; `today` is the date in the service's time zone (a leave must end later).
pub fn parse(form: &AvailabilityForm, today: Date) -> Result<Settings, String> {
    if form.days.len() != 7 {
        return Err("the form must list seven days".into());
    }
    let mut hours = Vec::new();
    for (i, (start, end)) in form.days.iter().enumerate() {
        let day = super::WEEKDAYS[i];
        match (start.trim(), end.trim()) {
            ("", "") => continue,
            ("", _) | (_, "") => return Err(format!("{day}: give both a start and an end")),
            (start, end) => {
                let (Some(s), Some(e)) = (minutes(start), minutes(end)) else {
                    return Err(format!("{day}: times are HH:MM"));
                };
                // An end of 00:00 means midnight at the end of the day.
                let e = if e == 0 { 1440 } else { e };
                if s >= e {
                    return Err(format!("{day}: the end must be after the start"));
                }
                hours.push(HoursRow {
                    weekday: i as u8,
                    start_minute: s,
                    end_minute: e,
                });
            }
        }
    }
    let back_on = match form.back_on.trim() {
        "" => None,
        text => {
            let date: Date = text
                .parse()
                .map_err(|_| "the day you are back must be a date (YYYY-MM-DD)".to_owned())?;
            if date <= today {
                return Err("the day you are back must be after today".into());
            }
            Some(date)
        }
    };
    let note = form.away_note.trim().to_owned();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(format!(
            "the note is longer than {MAX_NOTE_CHARS} characters"
        ));
    }
    if note.chars().any(char::is_control) {
        return Err("the note must be one line of text".into());
    }
    Ok(Settings {
        hours,
        back_on,
        note,
        accepting_new: form.accepting_new,
    })
}

/// The stored settings as the form shows them.
pub fn form_of(row: &AvailabilityRow) -> AvailabilityForm {
    let hm = |m: u16| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
    let mut days = vec![(String::new(), String::new()); 7];
    for h in &row.hours {
        if let Some(day) = days.get_mut(usize::from(h.weekday)) {
            *day = (hm(h.start_minute), hm(h.end_minute));
        }
    }
    AvailabilityForm {
        days,
        back_on: row
            .away
            .as_ref()
            .map(|(_, d)| d.clone())
            .unwrap_or_default(),
        away_note: row.away_note.clone(),
        accepting_new: row.accepting_new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(days: &[(&str, &str)], back_on: &str) -> AvailabilityForm {
        let mut all: Vec<(String, String)> = days
            .iter()
            .map(|(s, e)| (s.to_string(), e.to_string()))
            .collect();
        all.resize(7, (String::new(), String::new()));
        AvailabilityForm {
            days: all,
            back_on: back_on.into(),
            away_note: " On leave ".into(),
            accepting_new: true,
        }
    }

    #[test]
    fn hours_and_leave_are_checked() {
        let today: Date = "2026-11-23".parse().unwrap();
        let ok = parse(
            &form(&[("09:00", "17:00"), ("20:00", "00:00")], "2026-12-02"),
            today,
        )
        .unwrap();
        assert_eq!(ok.hours.len(), 2);
        assert_eq!(ok.hours[1].end_minute, 1440);
        assert_eq!(ok.note, "On leave");
        assert_eq!(
            form_of(&AvailabilityRow {
                hours: ok.hours.clone(),
                away: None,
                away_note: String::new(),
                accepting_new: true,
            })
            .days[1],
            ("20:00".into(), "00:00".into())
        );
        for (bad, want) in [
            (form(&[("17:00", "09:00")], ""), "after the start"),
            (form(&[("09:00", "")], ""), "both"),
            (form(&[("9am", "5pm")], ""), "HH:MM"),
            (form(&[], "2026-11-23"), "after today"),
            (form(&[], "soon"), "date"),
        ] {
            let err = parse(&bad, today).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }
}
