//! Reusable pieces of the UI.

pub mod field;
pub mod form_error;
