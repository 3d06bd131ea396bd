//! Accounts and sessions: hashing, the sign-in throttle, the session contents, the account
//! service, and its two front doors (server functions and the JSON API).

pub mod backend;
pub mod http;
pub mod password;
pub mod recovery_code;
pub mod recovery_http;
pub mod service;
pub mod session;
