//! The server side of the UI's chat server functions: adapts [`Chat`] to the
//! [`ChatBackend`] port that the `app` crate calls.

use std::sync::Arc;

use app::backend::{ChatBackend, ConversationPage};
use app::protocol::{
    AckError, ConversationId, ConversationSummary, Message, MessageId, Person, UserId,
};
use async_trait::async_trait;
use http::request::Parts;
use socketioxide::SocketIo;
use tower_sessions::Session;

use super::{parse_client_id, Chat, ChatError, SendRequest};
use crate::auth::session::{self, SessionUser};

/// [`Chat`] as seen from server functions.
pub struct FormChat {
    pub chat: Arc<Chat>,
    pub io: SocketIo,
    /// For presence introductions when a conversation is opened.
    pub realtime: crate::realtime::Realtime,
}

fn unauthenticated() -> AckError {
    AckError {
        code: "unauthenticated".into(),
        message: "Please sign in.".into(),
    }
}

/// The signed-in user of the request.
async fn user_of(req: &Parts) -> Result<SessionUser, AckError> {
    let session = req
        .extensions
        .get::<Session>()
        .ok_or_else(unauthenticated)?;
    session::current(session)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session read failed");
            ChatError::Internal.to_ack()
        })?
        .ok_or_else(unauthenticated)
}

#[async_trait]
impl ChatBackend for FormChat {
    async fn directory(&self, req: &Parts) -> Result<Vec<Person>, AckError> {
        user_of(req).await?;
        self.chat.directory().await.map_err(|e| e.to_ack())
    }

    async fn conversations(&self, req: &Parts) -> Result<Vec<ConversationSummary>, AckError> {
        let user = user_of(req).await?;
        self.chat
            .conversations(user.id)
            .await
            .map_err(|e| e.to_ack())
    }

    async fn conversation(
        &self,
        req: &Parts,
        id: ConversationId,
        before: Option<MessageId>,
    ) -> Result<ConversationPage, AckError> {
        let user = user_of(req).await?;
        let messages = self
            .chat
            .history(user.id, id, before)
            .await
            .map_err(|e| e.to_ack())?;
        let peer = self.chat.peer(user.id, id).await.map_err(|e| e.to_ack())?;
        let (peer_last_read_id, peer_read_at) = self
            .chat
            .read_marker(id, peer.id)
            .await
            .map_err(|e| e.to_ack())?;
        Ok(ConversationPage {
            peer,
            messages,
            peer_last_read_id,
            peer_read_at,
        })
    }

    async fn presence(&self, req: &Parts) -> Result<Vec<app::protocol::PresenceUpdate>, AckError> {
        let user = user_of(req).await?;
        crate::realtime::visibility::statuses(&self.realtime, user)
            .await
            .map_err(|e| ChatError::from(e).to_ack())
    }

    async fn open(&self, req: &Parts, peer: UserId) -> Result<ConversationId, AckError> {
        let user = user_of(req).await?;
        let (id, peer) = self
            .chat
            .open(user.id, user.role, peer)
            .await
            .map_err(|e| e.to_ack())?;
        crate::realtime::visibility::introduce(&self.io, &self.realtime, user.id, peer.id).await;
        Ok(id)
    }

    async fn send(
        &self,
        req: &Parts,
        id: ConversationId,
        client_id: String,
        body: String,
    ) -> Result<Message, AckError> {
        let user = user_of(req).await?;
        let request = SendRequest {
            conversation_id: id,
            client_id: parse_client_id(&client_id).map_err(|e| e.to_ack())?,
            body,
        };
        let sent = self
            .chat
            .send(user.id, request)
            .await
            .map_err(|e| e.to_ack())?;
        crate::realtime::deliver(&self.io, &sent).await;
        Ok(sent.message)
    }
}
