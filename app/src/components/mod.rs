//! Reusable pieces of the UI.

pub mod action_form;
pub mod auth_card;
pub mod crisis;
pub mod field;
pub mod form_error;
pub mod shared_computer;
