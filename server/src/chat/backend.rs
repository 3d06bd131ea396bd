//! The server side of the UI's chat server functions: adapts [`Chat`] to the
//! [`ChatBackend`] port that the `app` crate calls. Deliveries happen in [`Chat`], the same
//! way as for the socket path.

use std::sync::Arc;

use app::backend::{ChatBackend, ConversationPage};
use app::error::ErrorCode;
use app::protocol::{
    AccountSettings, AckError, AvailabilityForm, AvailabilitySettings, ConversationId,
    ConversationList, Message, MessageId, Person, PresenceUpdate, Unsent, UserId,
};
use async_trait::async_trait;
use http::request::Parts;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{parse_client_id, Chat, ChatError, SendRequest};
use crate::auth::backend::client_address;
use crate::auth::session::{self, SessionUser};

/// [`Chat`] as seen from server functions.
pub struct FormChat {
    pub chat: Arc<Chat>,
}

fn unauthenticated() -> AckError {
    AckError::new(ErrorCode::Unauthenticated, "Please sign in.")
}

/// Where a message a plain form could not send waits for its page: in the server-side
/// session (never in a URL; the redirect names only the form's `clientId`), until the next
/// plain-form send replaces or clears it.
const UNSENT_KEY: &str = "chat.unsent";

#[derive(Serialize, Deserialize)]
struct KeptUnsent {
    conversation: ConversationId,
    unsent: Unsent,
}

/// Keeps a refused plain-form message for its page. Losing it is not worth failing over.
async fn keep_unsent(req: &Parts, conversation: ConversationId, unsent: Unsent) {
    let Some(session) = req.extensions.get::<Session>() else {
        return;
    };
    let kept = KeptUnsent {
        conversation,
        unsent,
    };
    if let Err(e) = session.insert(UNSENT_KEY, kept).await {
        tracing::warn!(error = %e, "could not keep an unsent message for its page");
    }
}

/// The kept message of this conversation, if any. Read, not taken: a page may render its
/// data more than once, and the page shows it only right after the refused post.
async fn kept_unsent(req: &Parts, conversation: ConversationId) -> Option<Unsent> {
    let session = req.extensions.get::<Session>()?;
    let kept: KeptUnsent = session.get(UNSENT_KEY).await.ok().flatten()?;
    (kept.conversation == conversation).then_some(kept.unsent)
}

/// A plain-form send went through: nothing refused is kept any longer.
async fn forget_unsent(req: &Parts) {
    if let Some(session) = req.extensions.get::<Session>() {
        let _ = session.remove::<KeptUnsent>(UNSENT_KEY).await;
    }
}

/// The signed-in user of the request.
async fn user_of(req: &Parts) -> Result<SessionUser, AckError> {
    let session = req
        .extensions
        .get::<Session>()
        .ok_or_else(unauthenticated)?;
    match session::current(session).await {
        Ok(user) => user.ok_or_else(unauthenticated),
        Err(e) => {
            tracing::error!(error = %crate::report::chain(&e), "session read failed");
            Err(AckError::new(ErrorCode::Internal, "internal error"))
        }
    }
}

/// Answers a chat result, logging a refusal or failure once.
fn answer<T>(operation: &str, user: UserId, result: Result<T, ChatError>) -> Result<T, AckError> {
    result.map_err(|err| {
        err.log(operation, user);
        err.to_ack()
    })
}

#[async_trait]
impl ChatBackend for FormChat {
    async fn directory(&self, req: &Parts) -> Result<Vec<Person>, AckError> {
        let user = user_of(req).await?;
        answer("directory", user.id, self.chat.directory().await)
    }

    async fn conversations(
        &self,
        req: &Parts,
        longest_waiting: bool,
        after: Option<String>,
    ) -> Result<ConversationList, AckError> {
        let user = user_of(req).await?;
        let page = self
            .chat
            .conversations(user.id, user.role, longest_waiting, after.as_deref())
            .await;
        answer("conversations", user.id, page)
    }

    async fn conversation(
        &self,
        req: &Parts,
        id: ConversationId,
        before: Option<MessageId>,
    ) -> Result<ConversationPage, AckError> {
        let user = user_of(req).await?;
        let address = Some(client_address(req));
        let page = self.chat.conversation(user.id, id, before, address).await;
        let mut page = answer("conversation", user.id, page)?;
        if before.is_none() {
            page.unsent = kept_unsent(req, id).await;
        }
        Ok(page)
    }

    async fn presence(&self, req: &Parts) -> Result<Vec<PresenceUpdate>, AckError> {
        let user = user_of(req).await?;
        answer(
            "presence",
            user.id,
            self.chat.presence(user.id, user.role).await,
        )
    }

    async fn open(&self, req: &Parts, peer: UserId) -> Result<ConversationId, AckError> {
        let user = user_of(req).await?;
        let opened = self.chat.open(user.id, user.role, peer).await;
        answer("open", user.id, opened).map(|(id, _)| id)
    }

    async fn mark_handled(&self, req: &Parts, id: ConversationId) -> Result<(), AckError> {
        let user = user_of(req).await?;
        let handled = self.chat.mark_handled(user.id, user.role, id).await;
        answer("mark_handled", user.id, handled)
    }

    async fn mark_unread(&self, req: &Parts, id: ConversationId) -> Result<(), AckError> {
        let user = user_of(req).await?;
        let marked = self.chat.mark_unread(user.id, id).await;
        answer("mark_unread", user.id, marked)
    }

    async fn account_settings(&self, req: &Parts) -> Result<AccountSettings, AckError> {
        let user = user_of(req).await?;
        let settings = self.chat.account_settings(user.id, user.role).await;
        answer("account_settings", user.id, settings)
    }

    async fn availability_settings(&self, req: &Parts) -> Result<AvailabilitySettings, AckError> {
        let user = user_of(req).await?;
        let settings = self.chat.availability_settings(user.id, user.role).await;
        answer("availability_settings", user.id, settings)
    }

    async fn save_availability(&self, req: &Parts, form: AvailabilityForm) -> Result<(), AckError> {
        let user = user_of(req).await?;
        let saved = self.chat.save_availability(user.id, user.role, &form).await;
        answer("save_availability", user.id, saved)
    }

    async fn send(
        &self,
        req: &Parts,
        id: ConversationId,
        client_id: String,
        body: String,
    ) -> Result<Message, AckError> {
        let user = user_of(req).await?;
        let sent = async {
            let admitted = self.chat.admit()?;
            let request = SendRequest {
                conversation_id: id,
                client_id: parse_client_id(&client_id)?,
                body: body.clone(),
            };
            self.chat.send(admitted, user.id, request).await
        }
        .await;
        let sent = answer("send", user.id, sent);
        match &sent {
            Ok(_) => forget_unsent(req).await,
            Err(refused) => {
                let unsent = Unsent {
                    client_id,
                    body,
                    error: refused.message.clone(),
                };
                keep_unsent(req, id, unsent).await;
            }
        }
        sent
    }
}
