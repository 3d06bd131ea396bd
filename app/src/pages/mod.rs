//! One module a screen.

pub mod help;
pub mod home;
pub mod login;
pub mod not_found;
pub mod recover;
pub mod register;
