//! The error type of the account server functions: serializable, so it reaches the browser,
//! and carried in the URL when a form was posted without JavaScript.

use leptos::server_fn::{codec::JsonEncoding, error::FromServerFnError, ServerFnError};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::protocol::Role;

/// A form field an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Username,
    DisplayName,
    Password,
    RecoveryCode,
    /// A psychiatrist's line about themselves (set on the command line).
    Bio,
}

/// One message shown next to one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: Field,
    pub message: String,
}

/// Why an account action failed. Messages are written for the person at the form; none of
/// them tells whether a username exists, except "taken" at registration.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
pub enum AuthError {
    #[error("Incorrect username or password.")]
    InvalidCredentials,
    #[error("This sign-in page is for {}s. You have {} account: sign in at {}.", .expected, .actual.with_article(), .actual.login_path())]
    WrongRole { expected: Role, actual: Role },
    /// The username and recovery code do not belong together (or the account has no code).
    #[error("That recovery code does not match this username. Check both, or ask the service's administrator to reset your password.")]
    InvalidRecoveryCode,
    #[error("Too many attempts. Please wait {} and try again.", wait_in_words(*.retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    #[error("Please correct the highlighted fields.")]
    Invalid(Vec<FieldError>),
    #[error("Please sign in.")]
    Unauthenticated,
    /// The account's role may not do this (a psychiatrist's account is the service's).
    #[error("Your account cannot do that here; please ask the service's administrator.")]
    NotAllowed,
    /// The request's arguments could not be decoded (a missing field, a number that is not
    /// one): no page of Haven's sends such a request.
    #[error("This request is malformed.")]
    InvalidArguments,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The request did not reach the server, or its answer could not be read.
    #[error("Could not reach Haven. Check your connection and try again.")]
    Transport(String),
}

impl AuthError {
    /// The stable machine-readable code, used in JSON answers and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidCredentials => "invalid_credentials",
            AuthError::InvalidRecoveryCode => "invalid_recovery_code",
            AuthError::WrongRole { .. } => "wrong_role",
            AuthError::RateLimited { .. } => "rate_limited",
            AuthError::Invalid(_) => "invalid_input",
            AuthError::Unauthenticated => "unauthenticated",
            AuthError::NotAllowed => "forbidden",
            AuthError::InvalidArguments => INVALID_ARGUMENTS,
            AuthError::Internal => "internal",
            AuthError::Transport(_) => "transport",
        }
    }

    /// The HTTP status that answers this error ([`http_status`]).
    pub fn http_status(&self) -> u16 {
        http_status(self.code())
    }

    /// The message for one field, if this error has one.
    pub fn field_message(&self, field: Field) -> Option<String> {
        match self {
            AuthError::Invalid(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AuthError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        match classify(&value) {
            FnFailure::Malformed => AuthError::InvalidArguments,
            FnFailure::Server => AuthError::Internal,
            FnFailure::Transport => AuthError::Transport(value.to_string()),
        }
    }
}

impl From<ServerFnError> for AuthError {
    fn from(value: ServerFnError) -> Self {
        AuthError::Transport(value.to_string())
    }
}

/// Chat server functions fail with the same `{code, message}` as socket acks.
impl FromServerFnError for crate::protocol::AckError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        let (code, message) = match classify(&value) {
            FnFailure::Malformed => (INVALID_ARGUMENTS, "This request is malformed.".to_owned()),
            FnFailure::Server => ("internal", "internal error".to_owned()),
            FnFailure::Transport => ("transport", value.to_string()),
        };
        crate::protocol::AckError {
            code: code.into(),
            message,
        }
    }
}

/// A wait as a person says it: "30 seconds", "1 minute", "6 minutes" (rounded up: a
/// minute early is a refusal again).
pub fn wait_in_words(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=59 => format!("{seconds} seconds"),
        _ => match seconds.div_ceil(60) {
            1 => "1 minute".into(),
            minutes => format!("{minutes} minutes"),
        },
    }
}

/// The code of a server function call whose arguments could not be decoded.
pub const INVALID_ARGUMENTS: &str = "invalid_arguments";

/// What a failure inside server_fn's own machinery (not a Haven refusal) means here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FnFailure {
    /// The request could not be decoded (on the server, before the function ran): the
    /// client's mistake.
    Malformed,
    /// The server itself failed (encoding an answer, a missing piece): logged here, once.
    Server,
    /// In the browser: the call did not reach the server, or its answer was unreadable.
    Transport,
}

fn classify(error: &leptos::server_fn::error::ServerFnErrorErr) -> FnFailure {
    use leptos::server_fn::error::ServerFnErrorErr as E;
    match error {
        E::Args(_) | E::MissingArg(_) | E::UnsupportedRequestMethod(_) => FnFailure::Malformed,
        // On the server these are about the incoming request (its body unreadable).
        E::Request(_) | E::Deserialization(_) if cfg!(feature = "ssr") => FnFailure::Malformed,
        _ if cfg!(feature = "ssr") => {
            leptos::logging::error!("server function failed: {error}");
            FnFailure::Server
        }
        _ => FnFailure::Transport,
    }
}

/// The HTTP status that answers an error code: the one table, for the server functions,
/// the JSON API and the socket's codes alike (docs/protocol.md). A client's mistake is a
/// 4xx; 500 means the server itself failed (`internal`), and is also the answer for a code
/// this table does not know, so that a new code is noticed rather than hidden.
pub fn http_status(code: &str) -> u16 {
    match code {
        INVALID_ARGUMENTS | "invalid_payload" => 400,
        "unauthenticated" | "invalid_credentials" | "invalid_recovery_code" => 401,
        "forbidden" | "wrong_role" => 403,
        "conversation_not_found" | "user_not_found" => 404,
        "client_id_reused" | "not_accepting_new" => 409,
        "invalid_input" | "invalid_body" | "empty_body" | "body_too_long" | "invalid_client_id"
        | "invalid_settings" | "unknown_message" => 422,
        "rate_limited" => 429,
        _ => 500,
    }
}

/// How long a refused `rate_limited` call should wait before trying again, when the error
/// does not say: the send limit refills within a second.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// The status (and for `rate_limited` the `Retry-After` seconds) of a server function's
/// encoded error: an [`AckError`](crate::protocol::AckError) or an [`AuthError`], as
/// server_fn wrote it into the body. `None` for a body that is neither.
pub fn status_of_encoded_error(body: &[u8]) -> Option<(u16, Option<u64>)> {
    let (code, retry_after) = match serde_json::from_slice::<crate::protocol::AckError>(body) {
        Ok(ack) => (http_status(&ack.code), DEFAULT_RETRY_AFTER_SECS),
        Err(_) => {
            let auth = serde_json::from_slice::<AuthError>(body).ok()?;
            let wait = match auth {
                AuthError::RateLimited { retry_after_secs } => retry_after_secs,
                _ => DEFAULT_RETRY_AFTER_SECS,
            };
            (auth.http_status(), wait)
        }
    };
    Some((code, (code == 429).then_some(retry_after)))
}

impl std::fmt::Display for crate::protocol::AckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_has_its_status() {
        for (code, status) in [
            ("invalid_arguments", 400),
            ("invalid_payload", 400),
            ("unauthenticated", 401),
            ("forbidden", 403),
            ("conversation_not_found", 404),
            ("user_not_found", 404),
            ("client_id_reused", 409),
            ("invalid_body", 422),
            ("invalid_input", 422),
            ("rate_limited", 429),
            ("internal", 500),
        ] {
            assert_eq!(http_status(code), status, "{code}");
        }
    }

    #[test]
    fn waits_are_said_in_minutes() {
        assert_eq!(wait_in_words(1), "a second");
        assert_eq!(wait_in_words(30), "30 seconds");
        assert_eq!(wait_in_words(60), "1 minute");
        assert_eq!(wait_in_words(349), "6 minutes");
        assert_eq!(
            AuthError::RateLimited {
                retry_after_secs: 349
            }
            .to_string(),
            "Too many attempts. Please wait 6 minutes and try again."
        );
    }

    #[test]
    fn encoded_errors_are_read_back() {
        let ack = serde_json::to_vec(&crate::protocol::AckError {
            code: "forbidden".into(),
            message: "only psychiatrists do that".into(),
        })
        .unwrap();
        assert_eq!(status_of_encoded_error(&ack), Some((403, None)));
        let limited = serde_json::to_vec(&AuthError::RateLimited {
            retry_after_secs: 42,
        })
        .unwrap();
        assert_eq!(status_of_encoded_error(&limited), Some((429, Some(42))));
        let wrong = serde_json::to_vec(&AuthError::InvalidCredentials).unwrap();
        assert_eq!(status_of_encoded_error(&wrong), Some((401, None)));
        assert_eq!(status_of_encoded_error(b"<html>"), None);
    }
}
