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
    #[error("Too many attempts. Please wait {retry_after_secs} seconds and try again.")]
    RateLimited { retry_after_secs: u64 },
    #[error("Please correct the highlighted fields.")]
    Invalid(Vec<FieldError>),
    #[error("Please sign in.")]
    Unauthenticated,
    /// The account's role may not do this (a psychiatrist's account is the service's).
    #[error("Your account cannot do that here; please ask the service's administrator.")]
    NotAllowed,
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
            AuthError::Internal => "internal",
            AuthError::Transport(_) => "transport",
        }
    }

    /// The HTTP status that answers this error (mapped here once for the JSON API and the
    /// server functions).
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::InvalidCredentials
            | AuthError::InvalidRecoveryCode
            | AuthError::Unauthenticated => 401,
            AuthError::WrongRole { .. } | AuthError::NotAllowed => 403,
            AuthError::RateLimited { .. } => 429,
            AuthError::Invalid(_) => 422,
            AuthError::Internal | AuthError::Transport(_) => 500,
        }
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
        AuthError::Transport(value.to_string())
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
        crate::protocol::AckError {
            code: "transport".into(),
            message: value.to_string(),
        }
    }
}

impl std::fmt::Display for crate::protocol::AckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
