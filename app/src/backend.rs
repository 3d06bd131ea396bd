//! The port through which server functions reach the server's account logic. The `server`
//! crate implements it and provides it as Leptos context; the UI crate stays free of storage
//! and hashing code.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;

use crate::error::AuthError;
use crate::protocol::{
    AckError, ConversationId, Message, MessageId, Person, PublicUser, Role, Viewer,
};

/// What a registration form carries.
#[derive(Debug, Clone)]
pub struct Registration {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// What the "forgot your password" form carries.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub username: String,
    /// As typed (case, spaces and dashes do not matter).
    pub code: String,
    pub new_password: String,
    /// "This is a shared computer", as at sign-in.
    pub shared: bool,
}

/// Account operations for the current request. `req` carries the session, the peer address
/// and the cookies; implementations read what they need from it.
#[async_trait]
pub trait AccountBackend: Send + Sync + 'static {
    /// Verifies credentials for a role's sign-in page and starts a fresh session;
    /// `shared` ("This is a shared computer") makes it end with the browser or when idle.
    async fn login(
        &self,
        req: &Parts,
        role: Role,
        username: &str,
        password: &str,
        shared: bool,
    ) -> Result<PublicUser, AuthError>;

    /// Creates a student account and signs it in; its recovery code waits to be shown.
    async fn register(&self, req: &Parts, form: Registration) -> Result<PublicUser, AuthError>;

    /// Sets a new password with a recovery code, ends every other session of the account
    /// and signs this one in; the next recovery code waits to be shown.
    async fn recover(&self, req: &Parts, form: Recovery) -> Result<PublicUser, AuthError>;

    /// The recovery code waiting to be shown and saved, if any (groups of four).
    async fn recovery_code(&self, req: &Parts) -> Result<Option<String>, AuthError>;

    /// The person saved the code: it is shown no more.
    async fn recovery_code_saved(&self, req: &Parts) -> Result<(), AuthError>;

    /// Replaces the signed-in student's recovery code after checking their password; the
    /// new one waits to be shown.
    async fn new_recovery_code(&self, req: &Parts, password: &str) -> Result<(), AuthError>;

    /// Ends the session; answers where to send the user next.
    async fn logout(&self, req: &Parts) -> Result<String, AuthError>;

    /// Who is signed in on this request.
    async fn viewer(&self, req: &Parts) -> Result<Viewer, AuthError>;

    /// The session's inactivity limit (shared computer, psychiatrist) and whether it is a
    /// shared computer's: the page warns before the limit and keeps nothing beyond the tab.
    async fn session_limits(
        &self,
        req: &Parts,
    ) -> Result<crate::protocol::SessionLimits, AuthError>;

    /// Deletes the signed-in student's account after checking their password; ends every
    /// session of it.
    async fn delete_account(&self, req: &Parts, password: &str) -> Result<(), AuthError>;
}

/// The form in which the backend is provided as context.
pub type SharedBackend = Arc<dyn AccountBackend>;

/// One conversation as its page needs it.
#[derive(Debug, Clone)]
pub struct ConversationPage {
    /// The other member; in a group, its leader.
    pub peer: Person,
    /// A group's name and members now (`None` for a one-to-one conversation).
    pub group: Option<crate::protocol::GroupView>,
    pub messages: Vec<Message>,
    /// How far the other member has read, and when.
    pub peer_last_read_id: MessageId,
    pub peer_read_at: Option<crate::protocol::Timestamp>,
    /// What the person's last plain-form send in this conversation failed to send (on the
    /// page without `before`; the page shows it only right after that post).
    pub unsent: Option<crate::protocol::Unsent>,
}

/// Chat reads and the no-JavaScript fallbacks of chat actions, for the signed-in user of
/// `req`. Errors are `{code, message}` like socket acks.
#[async_trait]
pub trait ChatBackend: Send + Sync + 'static {
    /// Psychiatrists a student may write to.
    async fn directory(&self, req: &Parts) -> Result<Vec<Person>, AckError>;
    /// The user's conversations, most recent first.
    async fn conversations(
        &self,
        req: &Parts,
        longest_waiting: bool,
        after: Option<String>,
    ) -> Result<crate::protocol::ConversationList, AckError>;
    /// The other member and a page of history (the newest, or older than `before`).
    async fn conversation(
        &self,
        req: &Parts,
        id: ConversationId,
        before: Option<MessageId>,
    ) -> Result<ConversationPage, AckError>;
    /// The status of everyone the user may see (so the first frame shows it).
    async fn presence(&self, req: &Parts)
        -> Result<Vec<crate::protocol::PresenceUpdate>, AckError>;
    /// Opens the conversation with `peer`.
    async fn open(
        &self,
        req: &Parts,
        peer: crate::protocol::UserId,
    ) -> Result<ConversationId, AckError>;
    /// A psychiatrist marks a conversation handled without replying.
    async fn mark_handled(&self, req: &Parts, id: ConversationId) -> Result<(), AckError>;
    /// A psychiatrist's availability settings and what students see of them.
    async fn availability_settings(
        &self,
        req: &Parts,
    ) -> Result<crate::protocol::AvailabilitySettings, AckError>;
    /// Replaces a psychiatrist's availability settings.
    async fn save_availability(
        &self,
        req: &Parts,
        form: crate::protocol::AvailabilityForm,
    ) -> Result<(), AckError>;
    /// A member marks a conversation unread (for themselves; read receipts stay).
    async fn mark_unread(&self, req: &Parts, id: ConversationId) -> Result<(), AckError>;
    /// The settings page: who else opened the user's conversations.
    async fn account_settings(
        &self,
        req: &Parts,
    ) -> Result<crate::protocol::AccountSettings, AckError>;
    /// Sends a message (the plain-form path; the socket path is the usual one). A refused
    /// message is kept for the page to show back ([`ConversationPage::unsent`]).
    async fn send(
        &self,
        req: &Parts,
        id: ConversationId,
        client_id: String,
        body: String,
    ) -> Result<Message, AckError>;
}

/// The form in which the chat backend is provided as context.
pub type SharedChatBackend = Arc<dyn ChatBackend>;

/// A device's Web Push subscription as the settings page hands it over.
#[derive(Debug, Clone)]
pub struct PushSubscriptionForm {
    /// The push service's URL for this browser (`PushSubscription.endpoint`).
    pub endpoint: String,
    /// `keys.p256dh` and `keys.auth`, base64url.
    pub p256dh: String,
    pub auth: String,
    /// `private` or `names` (this device's notification setting).
    pub words: String,
    /// A psychiatrist's choice: reminders outside office hours too.
    pub after_hours: bool,
}

/// Notifications on this device (Web Push), for the session of `req`.
#[async_trait]
pub trait PushBackend: Send + Sync + 'static {
    /// Whether this session may turn them on, and the key to subscribe with.
    async fn offer(&self, req: &Parts) -> Result<crate::protocol::PushOffer, AckError>;
    /// Keeps this device's subscription for this session (replacing an earlier one).
    async fn subscribe(&self, req: &Parts, form: PushSubscriptionForm) -> Result<(), AckError>;
    /// Forgets this session's subscription at `endpoint`.
    async fn unsubscribe(&self, req: &Parts, endpoint: String) -> Result<(), AckError>;
}

/// The form in which the push backend is provided as context.
pub type SharedPushBackend = Arc<dyn PushBackend>;
