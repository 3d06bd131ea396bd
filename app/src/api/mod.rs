//! Server functions: the UI's calls to the server.

pub mod auth;
pub mod chat;
