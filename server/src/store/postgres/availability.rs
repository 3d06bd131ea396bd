//! Office hours, leave and intake on PostgreSQL.

use app::protocol::{Timestamp, UserId};
use sqlx::postgres::PgPool;
use sqlx::Row;

use crate::store::availability::{AvailabilityRow, HoursRow};
use crate::store::StoreError;

pub async fn get(db: &PgPool, psychiatrist: UserId) -> Result<AvailabilityRow, StoreError> {
    let hours = sqlx::query(
        "SELECT weekday, start_minute, end_minute FROM office_hours \
         WHERE psychiatrist_id = $1 ORDER BY weekday, start_minute",
    )
    .bind(psychiatrist.0)
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok(HoursRow {
            weekday: row.try_get::<i16, _>("weekday")? as u8,
            start_minute: row.try_get::<i16, _>("start_minute")? as u16,
            end_minute: row.try_get::<i16, _>("end_minute")? as u16,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let row = sqlx::query(
        "SELECT away_since, to_char(away_back_on, 'YYYY-MM-DD') AS away_back_on, away_note, \
                accepting_new FROM users WHERE id = $1",
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
        accepting_new: row.try_get("accepting_new")?,
    })
}

pub async fn set_hours(
    db: &PgPool,
    psychiatrist: UserId,
    hours: &[HoursRow],
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM office_hours WHERE psychiatrist_id = $1")
        .bind(psychiatrist.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO office_hours (psychiatrist_id, weekday, start_minute, end_minute) \
         SELECT $1, * FROM UNNEST($2::smallint[], $3::smallint[], $4::smallint[])",
    )
    .bind(psychiatrist.0)
    .bind(
        hours
            .iter()
            .map(|h| i16::from(h.weekday))
            .collect::<Vec<_>>(),
    )
    .bind(
        hours
            .iter()
            .map(|h| h.start_minute as i16)
            .collect::<Vec<_>>(),
    )
    .bind(
        hours
            .iter()
            .map(|h| h.end_minute as i16)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from_insert)?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_leave_and_intake(
    db: &PgPool,
    psychiatrist: UserId,
    away: Option<(Timestamp, &str)>,
    note: &str,
    accepting_new: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET \
           away_since = CASE WHEN $2::timestamptz IS NULL THEN NULL \
                             ELSE COALESCE(away_since, $2) END, \
           away_back_on = $3::date, away_note = $4, accepting_new = $5 \
         WHERE id = $1",
    )
    .bind(psychiatrist.0)
    .bind(away.map(|(since, _)| since))
    .bind(away.map(|(_, back_on)| back_on.to_owned()))
    .bind(note)
    .bind(accepting_new)
    .execute(db)
    .await?;
    Ok(())
}

/// A psychiatrist's replies since `since`, by whole hours waited.
pub async fn reply_waits_of(
    db: &PgPool,
    psychiatrist: UserId,
    since: jiff::civil::Date,
) -> Result<Vec<(u32, u64)>, StoreError> {
    sqlx::query(
        "SELECT hours, SUM(replies)::bigint AS replies FROM reply_waits \
         WHERE psychiatrist_id = $1 AND day >= $2::date GROUP BY hours",
    )
    .bind(psychiatrist.0)
    .bind(since.to_string())
    .fetch_all(db)
    .await?
    .iter()
    .map(|row| {
        Ok((
            u32::try_from(row.try_get::<i32, _>("hours")?).unwrap_or(1),
            u64::try_from(row.try_get::<i64, _>("replies")?).unwrap_or(0),
        ))
    })
    .collect()
}
