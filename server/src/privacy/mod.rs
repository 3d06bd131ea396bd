//! A student's own data: the download of their conversations (JSON and a readable page).
//! What is kept, for how long and who sees it: docs/privacy.md. The access record and the
//! export are gathered by the chat domain; account deletion is the account service's; the
//! retention rule is `store::retention`, run by `haven purge`.

pub mod html;
pub mod http;
