//! Office hours, leave and intake on SQLite.

use app::protocol::{Timestamp, UserId};
use sqlx::{Row, SqlitePool};

use crate::store::availability::{AvailabilityRow, HoursRow};
use crate::store::StoreError;

/// The settings of `psychiatrist` (empty hours and no leave if never set).
pub async fn get(db: &SqlitePool, psychiatrist: UserId) -> Result<AvailabilityRow, StoreError> {
    let hours = sqlx::query(
        "SELECT weekday, start_minute, end_minute FROM office_hours \
         WHERE psychiatrist_id = ? ORDER BY weekday, start_minute",
    )
    .bind(psychiatrist.0)
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok(HoursRow {
            weekday: row.try_get::<i64, _>("weekday")? as u8,
            start_minute: row.try_get::<i64, _>("start_minute")? as u16,
            end_minute: row.try_get::<i64, _>("end_minute")? as u16,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let row = sqlx::query(
        "SELECT away_since, away_back_on, away_note, accepting_new FROM users WHERE id = ?",
    )
    .bind(psychiatrist.0)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(AvailabilityRow::default());
    };
    let since: Option<Timestamp> = row.try_get("away_since")?;
    let back_on: Option<String> = row.try_get("away_back_on")?;
    Ok(AvailabilityRow {
        hours,
        away: since.zip(back_on),
        away_note: row.try_get("away_note")?,
        accepting_new: row.try_get::<i64, _>("accepting_new")? != 0,
    })
}

/// Replaces the weekly hours of `psychiatrist` with `hours`, in one transaction.
pub async fn set_hours(
    db: &SqlitePool,
    psychiatrist: UserId,
    hours: &[HoursRow],
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM office_hours WHERE psychiatrist_id = ?")
        .bind(psychiatrist.0)
        .execute(&mut *tx)
        .await?;
    for block in hours {
        sqlx::query(
            "INSERT INTO office_hours (psychiatrist_id, weekday, start_minute, end_minute) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(psychiatrist.0)
        .bind(i64::from(block.weekday))
        .bind(i64::from(block.start_minute))
        .bind(i64::from(block.end_minute))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_insert)?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets (or with `None` ends) a leave, and whether new students may write.
pub async fn set_leave_and_intake(
    db: &SqlitePool,
    psychiatrist: UserId,
    away: Option<(Timestamp, &str)>,
    note: &str,
    accepting_new: bool,
) -> Result<(), StoreError> {
    // A leave already under way keeps its start: the closed stretch began then.
    sqlx::query(
        "UPDATE users SET \
           away_since = CASE WHEN ?2 IS NULL THEN NULL ELSE COALESCE(away_since, ?2) END, \
           away_back_on = ?3, away_note = ?4, accepting_new = ?5 \
         WHERE id = ?1",
    )
    .bind(psychiatrist.0)
    .bind(away.map(|(since, _)| since))
    .bind(away.map(|(_, back_on)| back_on.to_owned()))
    .bind(note)
    .bind(i64::from(accepting_new))
    .execute(db)
    .await?;
    Ok(())
}

/// A psychiatrist's replies since `since`, by whole hours waited.
pub async fn reply_waits_of(
    db: &SqlitePool,
    psychiatrist: UserId,
    since: jiff::civil::Date,
) -> Result<Vec<(u32, u64)>, StoreError> {
    sqlx::query(
        "SELECT hours, SUM(replies) AS replies FROM reply_waits \
         WHERE psychiatrist_id = ? AND day >= ? GROUP BY hours",
    )
    .bind(psychiatrist.0)
    .bind(since.to_string())
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok((
            u32::try_from(row.try_get::<i64, _>("hours")?).unwrap_or(1),
            u64::try_from(row.try_get::<i64, _>("replies")?).unwrap_or(0),
        ))
    })
    .collect()
}
