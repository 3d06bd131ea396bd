//! Web defences that every route shares: where a request may come from (`origin`), who it
//! is attributed to for throttles (`client_addr`), and the security headers of every
//! response (`headers`). docs/security.md maps each to the threat it answers.

pub mod client_addr;
pub mod headers;
pub mod origin;
