//! Chat reads for the pages, and the plain-form fallbacks of chat actions (start a
//! conversation, send a message) that work before hydration and without JavaScript.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::protocol::UserId;
use crate::protocol::{
    AccountSettings, AckError, ConversationId, ConversationList, Message, MessageId, Person,
};

#[cfg(feature = "ssr")]
use super::chat_backend as chat;

/// A conversation's page: who it is with and the newest messages (or older ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub id: ConversationId,
    pub peer: Person,
    /// A group's name and members now (`None` for a one-to-one conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<crate::protocol::GroupView>,
    pub messages: Vec<Message>,
    /// How far the other member has read ("Seen"), and when.
    pub peer_last_read_id: MessageId,
    pub peer_read_at: Option<crate::protocol::Timestamp>,
    /// A fresh `clientId` for the plain-form composer (made on the server, so the page
    /// hydrates with the same value).
    pub client_id: String,
    /// A plain-form message that could not be sent, to show back in the composer.
    pub unsent: Option<crate::protocol::Unsent>,
}

/// Psychiatrists a student can write to.
#[server(prefix = "/api/form", endpoint = "directory")]
pub async fn directory() -> Result<Vec<Person>, AckError> {
    let (backend, req) = chat()?;
    backend.directory(&req).await
}

/// A page of the signed-in user's conversations: most recent first, or those awaiting
/// their reply longest first; `after` is the previous page's `more`.
#[server(prefix = "/api/form", endpoint = "conversations")]
pub async fn conversations(
    longest_waiting: Option<bool>,
    after: Option<String>,
) -> Result<ConversationList, AckError> {
    let (backend, req) = chat()?;
    backend
        .conversations(&req, longest_waiting.unwrap_or(false), after)
        .await
}

/// A page of a conversation: the newest 50 messages, or the 50 before `before`.
#[server(prefix = "/api/form", endpoint = "conversation")]
pub async fn conversation(
    id: i64,
    before: Option<i64>,
    unsent: Option<String>,
) -> Result<ConversationView, AckError> {
    let (backend, req) = chat()?;
    let page = backend
        .conversation(&req, ConversationId(id), before.map(MessageId))
        .await?;
    Ok(ConversationView {
        id: ConversationId(id),
        peer: page.peer,
        group: page.group,
        messages: page.messages,
        peer_last_read_id: page.peer_last_read_id,
        peer_read_at: page.peer_read_at,
        client_id: uuid::Uuid::new_v4().to_string(),
        // Only right after the refused post, which names its form's `clientId`.
        unsent: page
            .unsent
            .filter(|kept| unsent.as_deref() == Some(kept.client_id.as_str())),
    })
}

/// The status of everyone the signed-in user may see.
#[server(prefix = "/api/form", endpoint = "presence")]
pub async fn presence() -> Result<Vec<crate::protocol::PresenceUpdate>, AckError> {
    let (backend, req) = chat()?;
    backend.presence(&req).await
}

/// Opens (or finds) the conversation with a psychiatrist and goes there.
#[server(prefix = "/api/form", endpoint = "start_conversation")]
pub async fn start_conversation(peer_id: i64) -> Result<(), AckError> {
    let (backend, req) = chat()?;
    let opened = backend.open(&req, UserId(peer_id)).await;
    let id = super::back_to_page_on_error(<StartConversation as ServerFn>::PATH, "/chat", opened)?;
    leptos_axum::redirect(&format!("/chat/{id}"));
    Ok(())
}

/// Sends a message as a plain form post and comes back to the conversation.
#[server(prefix = "/api/form", endpoint = "post_message")]
pub async fn post_message(
    conversation_id: i64,
    client_id: String,
    body: String,
) -> Result<(), AckError> {
    let (backend, req) = chat()?;
    let token: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    let sent = backend
        .send(&req, ConversationId(conversation_id), client_id, body)
        .await;
    // A refusal comes back to the page with the text (kept by the backend) shown again.
    let page = format!("/chat/{conversation_id}?unsent={token}");
    let sent = super::back_to_page_on_error(<PostMessage as ServerFn>::PATH, &page, sent)?;
    // Back at the message just sent, not at the top of the history.
    leptos_axum::redirect(&format!("/chat/{conversation_id}#m-{}", sent.id));
    Ok(())
}

/// A psychiatrist marks a conversation handled without replying (it stops "awaiting
/// reply" until the student writes again) and comes back to it.
#[server(prefix = "/api/form", endpoint = "mark_handled")]
pub async fn mark_handled(conversation_id: i64) -> Result<(), AckError> {
    let (backend, req) = chat()?;
    let handled = backend
        .mark_handled(&req, ConversationId(conversation_id))
        .await;
    let page = format!("/chat/{conversation_id}");
    super::back_to_page_on_error(<MarkHandled as ServerFn>::PATH, &page, handled)?;
    leptos_axum::redirect(&page);
    Ok(())
}

/// Marks a conversation unread for the signed-in member and goes back to the list (staying
/// on the conversation would read it again at once). Posted as a plain form.
#[server(prefix = "/api/form", endpoint = "mark_unread")]
pub async fn mark_unread(conversation_id: i64) -> Result<(), AckError> {
    let (backend, req) = chat()?;
    let marked = backend
        .mark_unread(&req, ConversationId(conversation_id))
        .await;
    let page = format!("/chat/{conversation_id}");
    super::back_to_page_on_error(<MarkUnread as ServerFn>::PATH, &page, marked)?;
    leptos_axum::redirect("/chat");
    Ok(())
}

/// The settings page's data: who else opened the user's conversations.
#[server(prefix = "/api/form", endpoint = "account_settings")]
pub async fn load_settings() -> Result<AccountSettings, AckError> {
    let (backend, req) = chat()?;
    backend.account_settings(&req).await
}
