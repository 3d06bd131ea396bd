//! What can go wrong in a chat operation, with the stable code each answers with.

use app::error::ErrorCode;
use app::protocol::AckError;
use thiserror::Error;

use crate::store::StoreError;

/// A refused or failed chat operation. Messages never quote a message body.
#[derive(Debug, Error)]
pub enum ChatError {
    #[error("{0}")]
    InvalidPayload(&'static str),
    #[error("clientId must be a UUID")]
    InvalidClientId,
    #[error("the message is empty")]
    EmptyBody,
    #[error("the message is longer than {max} characters", max = app::protocol::MAX_BODY_CHARS)]
    BodyTooLong,
    /// A control character other than a line break or tab (docs/protocol.md).
    #[error("the message contains an invisible control character ({}); remove it and send again", app::validation::describe_refused(*.0))]
    InvalidBody(char),
    /// Unknown conversation, or one the user is not a member of: the same answer, so that
    /// ids reveal nothing.
    #[error("This conversation isn't available.")]
    ConversationNotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("this clientId was already used for another conversation")]
    ClientIdReused,
    #[error("sending too fast; wait a moment")]
    RateLimited,
    /// The server is behind by more than it may keep a sender waiting
    /// ([`super::admission`]): the message was not taken, and may be sent again.
    #[error("Haven is busy just now; the message was not taken yet, send it again in a moment")]
    Busy {
        /// How long the sender is asked to wait before offering it again.
        retry_after: std::time::Duration,
    },
    #[error("lastReadId is not a message of this conversation")]
    UnknownMessage,
    /// The psychiatrist paused new conversations (existing ones go on).
    #[error("this psychiatrist is not taking new conversations just now; please choose another")]
    NotAcceptingNew,
    /// Availability settings are a psychiatrist's.
    #[error("only psychiatrists do that")]
    NotPsychiatrist,
    /// A student's own data (the export) is a student's.
    #[error("only students do that")]
    NotStudent,
    /// The availability form has a mistake, said in the message.
    #[error("{0}")]
    InvalidSettings(String),
    /// A group's name, description or limit is not acceptable, said in the message.
    #[error("{0}")]
    InvalidGroup(String),
    /// Moderation and invitations are the group's leader's.
    #[error("only the group's leader does that")]
    NotLeader,
    /// A leader invites only students who have a conversation with them.
    #[error("you can invite only a student who has a conversation with you")]
    NotYourStudent,
    #[error("this student is already invited to or in the group")]
    AlreadyInvited,
    #[error("the group is full")]
    GroupFull,
    #[error("the group is closed; it can be read, not written to")]
    GroupClosed,
    /// The alias is not acceptable, said in the message.
    #[error("{0}")]
    InvalidAlias(String),
    #[error("someone in the group already goes by that name; choose another")]
    AliasTaken,
    /// A leader does not leave their group; they close it.
    #[error("the leader closes the group instead of leaving it")]
    LeaderStays,
    /// Storage failed; the cause is logged once, where the error is answered.
    #[error("internal error")]
    Store(#[from] StoreError),
}

impl ChatError {
    /// The stable machine-readable code (docs/protocol.md).
    pub fn code(&self) -> ErrorCode {
        match self {
            ChatError::InvalidPayload(_) => ErrorCode::InvalidPayload,
            ChatError::InvalidClientId => ErrorCode::InvalidClientId,
            ChatError::EmptyBody => ErrorCode::EmptyBody,
            ChatError::BodyTooLong => ErrorCode::BodyTooLong,
            ChatError::InvalidBody(_) => ErrorCode::InvalidBody,
            ChatError::ConversationNotFound => ErrorCode::ConversationNotFound,
            ChatError::UserNotFound => ErrorCode::UserNotFound,
            ChatError::ClientIdReused => ErrorCode::ClientIdReused,
            ChatError::RateLimited => ErrorCode::RateLimited,
            ChatError::Busy { .. } => ErrorCode::Busy,
            ChatError::UnknownMessage => ErrorCode::UnknownMessage,
            ChatError::NotAcceptingNew => ErrorCode::NotAcceptingNew,
            ChatError::NotPsychiatrist | ChatError::NotStudent | ChatError::LeaderStays => {
                ErrorCode::Forbidden
            }
            ChatError::InvalidGroup(_) => ErrorCode::InvalidGroup,
            ChatError::NotLeader => ErrorCode::NotLeader,
            ChatError::NotYourStudent => ErrorCode::NotYourStudent,
            ChatError::AlreadyInvited => ErrorCode::AlreadyInvited,
            ChatError::GroupFull => ErrorCode::GroupFull,
            ChatError::GroupClosed => ErrorCode::GroupClosed,
            ChatError::InvalidAlias(_) => ErrorCode::InvalidAlias,
            ChatError::AliasTaken => ErrorCode::AliasTaken,
            ChatError::InvalidSettings(_) => ErrorCode::InvalidSettings,
            ChatError::Store(_) => ErrorCode::Internal,
        }
    }

    /// The error as carried in an ack.
    pub fn to_ack(&self) -> AckError {
        let mut ack = AckError::new(self.code(), self.to_string());
        if let ChatError::Busy { retry_after } = self {
            ack.retry_after_ms = Some(retry_after.as_millis() as u64);
        }
        ack
    }

    /// Logs a refusal by its code (never with the payload), and a failure with its causes;
    /// for the edges that answer the error (acks and server functions), once each.
    pub fn log(&self, operation: &str, user: app::protocol::UserId) {
        crate::metrics::METRICS.error(self.code());
        match self {
            ChatError::Store(cause) => tracing::error!(
                operation,
                user = %user,
                error = %crate::report::chain(cause),
                "chat operation failed"
            ),
            // Refused by the thousand when the server is behind: a log line each would add
            // to the load being shed (the count is in `/metrics`).
            ChatError::Busy { .. } => tracing::debug!(operation, user = %user, "busy: refused"),
            refusal => {
                tracing::info!(operation, user = %user, code = %refusal.code(), "chat operation refused")
            }
        }
    }
}
