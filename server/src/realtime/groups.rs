//! The group events of a socket (issue 27): each decodes its payload, calls one domain
//! function and answers; the rules are `chat::groups`'.

use app::protocol::events::client;
use app::protocol::groups::{
    AnswerInvitation, CreateGroup, GroupAnswered, GroupCreated, InGroup, InviteToGroup,
    RemoveMember, RemoveMessage,
};
use app::protocol::Done;
use socketioxide::adapter::Adapter;

use super::messaging::{Caller, Routes};
use crate::chat::ChatError;
use crate::security::client_addr::ClientAddr;

/// Routes every group event.
pub fn routes<A: Adapter>(routes: &mut Routes<A>) {
    routes.on::<client::GroupCreate, _, _>(create::<A>);
    routes.on::<client::GroupInvite, _, _>(invite::<A>);
    routes.on::<client::GroupAnswer, _, _>(answer::<A>);
    routes.on::<client::GroupLeave, _, _>(leave::<A>);
    routes.on::<client::GroupRemove, _, _>(remove::<A>);
    routes.on::<client::MessageRemove, _, _>(remove_message::<A>);
    routes.on::<client::GroupClose, _, _>(close::<A>);
}

/// `group:create {name, description, memberLimit?}` → `{ok, conversation}`.
async fn create<A: Adapter>(
    caller: Caller<A>,
    request: CreateGroup,
) -> Result<GroupCreated, ChatError> {
    let user = caller.user;
    let conversation = caller
        .chat
        .create_group(user.id, user.role, request)
        .await?;
    Ok(GroupCreated { conversation })
}

/// `group:invite {conversationId, studentId}` → `{ok}`; the student gets `group:invited`.
async fn invite<A: Adapter>(caller: Caller<A>, request: InviteToGroup) -> Result<Done, ChatError> {
    caller
        .chat
        .invite(caller.user.id, request.conversation_id, request.student_id)
        .await?;
    Ok(Done {})
}

/// `group:answer {conversationId, accept, alias?}` → `{ok, conversation}` (null when
/// declined); the members get `group:member` and the quiet line.
async fn answer<A: Adapter>(
    caller: Caller<A>,
    request: AnswerInvitation,
) -> Result<GroupAnswered, ChatError> {
    let conversation = caller
        .chat
        .answer_invitation(
            caller.user.id,
            request.conversation_id,
            request.accept,
            request.alias,
        )
        .await?;
    Ok(GroupAnswered { conversation })
}

/// `group:leave {conversationId}` → `{ok}`.
async fn leave<A: Adapter>(caller: Caller<A>, request: InGroup) -> Result<Done, ChatError> {
    caller
        .chat
        .leave_group(caller.user.id, request.conversation_id)
        .await?;
    Ok(Done {})
}

/// `group:remove {conversationId, memberId}` → `{ok}`; the member gets `group:removed`.
async fn remove<A: Adapter>(caller: Caller<A>, request: RemoveMember) -> Result<Done, ChatError> {
    caller
        .chat
        .remove_member(caller.user.id, request.conversation_id, request.member_id)
        .await?;
    Ok(Done {})
}

/// `message:remove {conversationId, messageId}` → `{ok}`; the members get `message:removed`.
async fn remove_message<A: Adapter>(
    caller: Caller<A>,
    request: RemoveMessage,
) -> Result<Done, ChatError> {
    let address = caller
        .socket
        .req_parts()
        .extensions
        .get::<ClientAddr>()
        .map(|a| a.0);
    caller
        .chat
        .remove_message(
            caller.user.id,
            request.conversation_id,
            request.message_id,
            address,
        )
        .await?;
    Ok(Done {})
}

/// `group:close {conversationId}` → `{ok}`; the members get `group:closed`.
async fn close<A: Adapter>(caller: Caller<A>, request: InGroup) -> Result<Done, ChatError> {
    caller
        .chat
        .close_group(caller.user.id, request.conversation_id)
        .await?;
    Ok(Done {})
}
