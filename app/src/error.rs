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

/// Every stable, machine-readable error code Haven answers with (docs/protocol.md), in
/// acks, server functions and the JSON API alike; on the wire, its snake_case name. The
/// server answers with it and the browser matches on it: neither spells a code as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A server function's arguments could not be decoded.
    InvalidArguments,
    /// A JSON API request that is not the JSON it wants.
    BadRequest,
    /// A socket event's payload is not the shape the event wants.
    InvalidPayload,
    Unauthenticated,
    InvalidCredentials,
    InvalidRecoveryCode,
    /// The account's role may not do this.
    Forbidden,
    /// A state change or socket from a page that is not Haven's own.
    ForbiddenOrigin,
    /// This node cannot serve sockets now (it lost Redis): try again shortly.
    Unavailable,
    /// Signed in on the other role's page.
    WrongRole,
    /// Unknown, or not the user's: the same answer, so that ids reveal nothing.
    ConversationNotFound,
    UserNotFound,
    ClientIdReused,
    NotAcceptingNew,
    /// A form with mistakes (each field's message beside it).
    InvalidInput,
    InvalidBody,
    EmptyBody,
    BodyTooLong,
    InvalidClientId,
    InvalidSettings,
    UnknownMessage,
    RateLimited,
    /// The server is behind (a burst past what it can answer in time): the message was not
    /// taken; send it again after a moment (the browser does, with backoff).
    Busy,
    /// A group's name, description or member limit is not acceptable.
    InvalidGroup,
    /// Only the group's leader may do that.
    NotLeader,
    /// A leader may invite only a student who has a conversation with them.
    NotYourStudent,
    /// The student is already invited to, or a member of, the group.
    AlreadyInvited,
    /// Members and open invitations have reached the group's limit.
    GroupFull,
    /// The leader closed the group: it is read-only.
    GroupClosed,
    /// An alias that is empty, too long, or made of markup or invisible characters.
    InvalidAlias,
    /// Another member already shows under that name in the group.
    AliasTaken,
    /// A push subscription that is not one: an endpoint that is not `https` on a public
    /// address, or keys that are not a browser's.
    InvalidSubscription,
    /// Notifications on this device are not offered (a shared-computer sign-in).
    PushNotOffered,
    /// The server itself failed.
    Internal,
    /// In the browser: the request did not reach the server, or its answer was unreadable.
    Transport,
    /// A code this build does not know (a newer server's): read, never sent.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Its name on the wire and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArguments => "invalid_arguments",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidPayload => "invalid_payload",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidRecoveryCode => "invalid_recovery_code",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::ForbiddenOrigin => "forbidden_origin",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::WrongRole => "wrong_role",
            ErrorCode::ConversationNotFound => "conversation_not_found",
            ErrorCode::UserNotFound => "user_not_found",
            ErrorCode::ClientIdReused => "client_id_reused",
            ErrorCode::NotAcceptingNew => "not_accepting_new",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::EmptyBody => "empty_body",
            ErrorCode::BodyTooLong => "body_too_long",
            ErrorCode::InvalidClientId => "invalid_client_id",
            ErrorCode::InvalidSettings => "invalid_settings",
            ErrorCode::UnknownMessage => "unknown_message",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Busy => "busy",
            ErrorCode::InvalidGroup => "invalid_group",
            ErrorCode::NotLeader => "not_leader",
            ErrorCode::NotYourStudent => "not_your_student",
            ErrorCode::AlreadyInvited => "already_invited",
            ErrorCode::GroupFull => "group_full",
            ErrorCode::GroupClosed => "group_closed",
            ErrorCode::InvalidAlias => "invalid_alias",
            ErrorCode::AliasTaken => "alias_taken",
            ErrorCode::InvalidSubscription => "invalid_subscription",
            ErrorCode::PushNotOffered => "push_not_offered",
            ErrorCode::Internal => "internal",
            ErrorCode::Transport => "transport",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// The HTTP status that answers this code: the one table, for the server functions,
    /// the JSON API and the socket's codes alike (docs/protocol.md). A client's mistake is
    /// a 4xx; 500 means the server itself failed.
    pub fn http_status(self) -> u16 {
        use ErrorCode as C;
        match self {
            C::InvalidArguments | C::BadRequest | C::InvalidPayload => 400,
            C::Unauthenticated | C::InvalidCredentials | C::InvalidRecoveryCode => 401,
            C::Forbidden
            | C::ForbiddenOrigin
            | C::WrongRole
            | C::NotLeader
            | C::NotYourStudent
            | C::PushNotOffered => 403,
            C::ConversationNotFound | C::UserNotFound => 404,
            C::ClientIdReused
            | C::NotAcceptingNew
            | C::AlreadyInvited
            | C::GroupFull
            | C::GroupClosed
            | C::AliasTaken => 409,
            C::InvalidInput
            | C::InvalidBody
            | C::EmptyBody
            | C::BodyTooLong
            | C::InvalidClientId
            | C::InvalidSettings
            | C::InvalidGroup
            | C::InvalidAlias
            | C::InvalidSubscription
            | C::UnknownMessage => 422,
            C::RateLimited => 429,
            C::Unavailable | C::Busy => 503,
            C::Internal | C::Transport | C::Unknown => 500,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AuthError {
    /// The stable machine-readable code, used in JSON answers and logs.
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::InvalidCredentials => ErrorCode::InvalidCredentials,
            AuthError::InvalidRecoveryCode => ErrorCode::InvalidRecoveryCode,
            AuthError::WrongRole { .. } => ErrorCode::WrongRole,
            AuthError::RateLimited { .. } => ErrorCode::RateLimited,
            AuthError::Invalid(_) => ErrorCode::InvalidInput,
            AuthError::Unauthenticated => ErrorCode::Unauthenticated,
            AuthError::NotAllowed => ErrorCode::Forbidden,
            AuthError::InvalidArguments => ErrorCode::InvalidArguments,
            AuthError::Internal => ErrorCode::Internal,
            AuthError::Transport(_) => ErrorCode::Transport,
        }
    }

    /// The HTTP status that answers this error ([`ErrorCode::http_status`]).
    pub fn http_status(&self) -> u16 {
        self.code().http_status()
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
            FnFailure::Malformed => (
                ErrorCode::InvalidArguments,
                "This request is malformed.".to_owned(),
            ),
            FnFailure::Server => (ErrorCode::Internal, "internal error".to_owned()),
            FnFailure::Transport => (ErrorCode::Transport, value.to_string()),
        };
        crate::protocol::AckError::new(code, message)
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

/// How long a refused `rate_limited` call should wait before trying again, when the error
/// does not say: the send limit refills within a second.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// The status (and for `rate_limited`, or a `busy` that says how long, the `Retry-After`
/// seconds) of a server function's encoded error: an [`AckError`](crate::protocol::AckError)
/// or an [`AuthError`], as server_fn wrote it into the body. `None` for a body that is
/// neither.
pub fn status_of_encoded_error(body: &[u8]) -> Option<(u16, Option<u64>)> {
    let (code, retry_after) = match serde_json::from_slice::<crate::protocol::AckError>(body) {
        Ok(ack) => (
            ack.code.http_status(),
            ack.retry_after_ms.map(|ms| ms.div_ceil(1000).max(1)),
        ),
        Err(_) => {
            let auth = serde_json::from_slice::<AuthError>(body).ok()?;
            let wait = match auth {
                AuthError::RateLimited { retry_after_secs } => Some(retry_after_secs),
                _ => None,
            };
            (auth.http_status(), wait)
        }
    };
    let retry_after = match code {
        429 => Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER_SECS)),
        _ => retry_after,
    };
    Some((code, retry_after))
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
    fn each_code_has_its_status_and_its_wire_name() {
        for (code, name, status) in [
            (ErrorCode::InvalidArguments, "invalid_arguments", 400),
            (ErrorCode::InvalidPayload, "invalid_payload", 400),
            (ErrorCode::Unauthenticated, "unauthenticated", 401),
            (ErrorCode::Forbidden, "forbidden", 403),
            (
                ErrorCode::ConversationNotFound,
                "conversation_not_found",
                404,
            ),
            (ErrorCode::UserNotFound, "user_not_found", 404),
            (ErrorCode::ClientIdReused, "client_id_reused", 409),
            (ErrorCode::InvalidBody, "invalid_body", 422),
            (ErrorCode::InvalidInput, "invalid_input", 422),
            (ErrorCode::RateLimited, "rate_limited", 429),
            (ErrorCode::Busy, "busy", 503),
            (ErrorCode::Internal, "internal", 500),
        ] {
            assert_eq!(code.http_status(), status, "{code}");
            assert_eq!(code.as_str(), name);
            let wire = serde_json::to_value(code).unwrap();
            assert_eq!(wire, serde_json::json!(name), "serialized as its name");
            assert_eq!(serde_json::from_value::<ErrorCode>(wire).unwrap(), code);
        }
        let newer: ErrorCode =
            serde_json::from_value(serde_json::json!("from_the_future")).unwrap();
        assert_eq!(newer, ErrorCode::Unknown, "a code this build does not know");
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
        let ack = serde_json::to_vec(&crate::protocol::AckError::new(
            ErrorCode::Forbidden,
            "only psychiatrists do that",
        ))
        .unwrap();
        assert_eq!(status_of_encoded_error(&ack), Some((403, None)));
        let limited = serde_json::to_vec(&AuthError::RateLimited {
            retry_after_secs: 42,
        })
        .unwrap();
        assert_eq!(status_of_encoded_error(&limited), Some((429, Some(42))));
        let mut busy = crate::protocol::AckError::new(ErrorCode::Busy, "busy");
        busy.retry_after_ms = Some(1_500);
        let busy = serde_json::to_vec(&busy).unwrap();
        assert_eq!(status_of_encoded_error(&busy), Some((503, Some(2))));
        let wrong = serde_json::to_vec(&AuthError::InvalidCredentials).unwrap();
        assert_eq!(status_of_encoded_error(&wrong), Some((401, None)));
        assert_eq!(status_of_encoded_error(b"<html>"), None);
    }
}
