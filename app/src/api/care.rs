//! What every screen needs for a person in crisis, signed in or not, and a psychiatrist's
//! availability settings.
// A plain form's fields are a server function's arguments: the availability form has 17.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::protocol::{AckError, CrisisResource};

/// The crisis resources the service configured (public: the landing and sign-in pages
/// show them too).
#[server(prefix = "/api/form", endpoint = "crisis_resources")]
pub async fn crisis_resources() -> Result<Vec<CrisisResource>, AckError> {
    use_context::<crate::protocol::CrisisList>()
        .map(|list| list.0.to_vec())
        .ok_or_else(|| AckError::new(crate::error::ErrorCode::Internal, "internal error"))
}

#[cfg(feature = "ssr")]
use super::chat_backend as chat;

/// The signed-in psychiatrist's availability settings.
#[server(prefix = "/api/form", endpoint = "availability_settings")]
pub async fn availability_settings() -> Result<crate::protocol::AvailabilitySettings, AckError> {
    let (backend, req) = chat()?;
    backend.availability_settings(&req).await
}

/// Saves the availability form (a plain form post without JavaScript): office hours per
/// weekday, the day back from a leave, a note, and whether new students may write.
#[server(prefix = "/api/form", endpoint = "save_availability")]
pub async fn save_availability(
    mon_start: String,
    mon_end: String,
    tue_start: String,
    tue_end: String,
    wed_start: String,
    wed_end: String,
    thu_start: String,
    thu_end: String,
    fri_start: String,
    fri_end: String,
    sat_start: String,
    sat_end: String,
    sun_start: String,
    sun_end: String,
    back_on: String,
    away_note: String,
    accepting_new: Option<String>,
) -> Result<(), AckError> {
    use leptos::server_fn::ServerFn;
    let (backend, req) = chat()?;
    let form = crate::protocol::AvailabilityForm {
        days: vec![
            (mon_start, mon_end),
            (tue_start, tue_end),
            (wed_start, wed_end),
            (thu_start, thu_end),
            (fri_start, fri_end),
            (sat_start, sat_end),
            (sun_start, sun_end),
        ],
        back_on,
        away_note,
        accepting_new: accepting_new.is_some(),
    };
    let saved = backend.save_availability(&req, form).await;
    super::back_to_page_on_error(
        <SaveAvailability as ServerFn>::PATH,
        AVAILABILITY_PAGE,
        saved,
    )?;
    leptos_axum::redirect(AVAILABILITY_PAGE);
    Ok(())
}

/// Where a psychiatrist sets office hours and leave.
pub const AVAILABILITY_PAGE: &str = "/chat/availability";
