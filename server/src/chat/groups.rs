//! Support groups led by a psychiatrist (issue 27): creating one, invitations that need a
//! yes, joining under an alias, leaving, and the leader's moderation. Each rule is checked
//! here, before anything is stored; each change is published to the members as they stand
//! after it (a removed member's connections hear nothing more of the group, on any node:
//! membership is read afresh for every group operation, see `members`).

use std::sync::Arc;

use app::protocol::groups::{
    CreateGroup, GroupClosed, GroupGone, MemberChange, MemberUpdate, MessageRemoved,
    DEFAULT_MEMBER_LIMIT, MAX_DESCRIPTION_CHARS, MAX_MEMBER_LIMIT,
};
use app::protocol::{
    AccessKind, ClientId, ConversationId, Group, MessageId, Role, Timestamp, UserId,
};

use super::members::Room;
use super::roster::{Roster, Viewer};
use super::{Audience, Chat, ChatError, ChatEvent};
use crate::store::groups::{self, Standing};
use crate::store::messages::{self, Line, LineEvent};
use crate::store::{access, conversations, users};

/// A new random handle: `g` and 12 hex digits, unrelated to any id.
fn new_handle() -> String {
    let bits = uuid::Uuid::new_v4().as_u128();
    format!("g{:012x}", bits & 0xffff_ffff_ffff)
}

/// Name and description, checked and trimmed; the member limit within bounds.
fn check_group(request: CreateGroup) -> Result<(String, String, u32), ChatError> {
    let name = request.name.trim().to_owned();
    app::validation::check_group_name(&name).map_err(ChatError::InvalidGroup)?;
    let description = app::validation::normalize_line_breaks(&request.description)
        .trim()
        .to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ChatError::InvalidGroup(format!(
            "A description is at most {MAX_DESCRIPTION_CHARS} characters."
        )));
    }
    if let Some(c) = app::validation::refused_in_text(&description) {
        return Err(ChatError::InvalidGroup(format!(
            "The description cannot contain control characters ({} found).",
            app::validation::describe_refused(c)
        )));
    }
    let limit = request.member_limit.unwrap_or(DEFAULT_MEMBER_LIMIT);
    if !(2..=MAX_MEMBER_LIMIT).contains(&limit) {
        return Err(ChatError::InvalidGroup(format!(
            "A group has room for 2 to {MAX_MEMBER_LIMIT} students."
        )));
    }
    Ok((name, description, limit))
}

impl Chat {
    /// A psychiatrist starts a group, which they lead.
    pub async fn create_group(
        &self,
        user: UserId,
        role: Role,
        request: CreateGroup,
    ) -> Result<Group, ChatError> {
        if role != Role::Psychiatrist {
            return Err(ChatError::NotPsychiatrist);
        }
        let (name, description, limit) = check_group(request)?;
        let leader = users::find_by_id(&self.db, user)
            .await?
            .ok_or(ChatError::UserNotFound)?;
        let id = groups::create(
            &self.db,
            user,
            &new_handle(),
            &leader.display_name.to_lowercase(),
            &name,
            &description,
            limit,
            Timestamp::now(),
        )
        .await?;
        Ok(self.roster(id).await?.group_for(user))
    }

    /// The leader invites one of their students (one who has a conversation with them);
    /// the student is told at once and is not a member until they say yes.
    pub async fn invite(
        &self,
        user: UserId,
        conversation: ConversationId,
        student: UserId,
    ) -> Result<(), ChatError> {
        let roster = self.led_group(user, conversation).await?;
        if roster.closed() {
            return Err(ChatError::GroupClosed);
        }
        // The same answer whether the id is no one, a psychiatrist, or someone else's student.
        if conversations::find_direct(&self.db, student, user)
            .await?
            .is_none()
        {
            return Err(ChatError::NotYourStudent);
        }
        if roster
            .person(student)
            .is_some_and(|p| matches!(p.standing, Standing::Invited | Standing::Member))
        {
            return Err(ChatError::AlreadyInvited);
        }
        let taken = groups::places_taken(&self.db, conversation).await?;
        if taken >= u32::try_from(roster.group.member_limit).unwrap_or(0) {
            return Err(ChatError::GroupFull);
        }
        if !groups::invite(
            &self.db,
            conversation,
            student,
            &new_handle(),
            Timestamp::now(),
        )
        .await?
        {
            return Err(ChatError::AlreadyInvited);
        }
        let group = self.roster(conversation).await?.group_for(student);
        self.publisher
            .publish(ChatEvent::GroupInvited {
                group,
                to: Audience::Users(Arc::from([student])),
            })
            .await;
        Ok(())
    }

    /// The groups `user` is invited to and has not answered, newest first.
    pub async fn invitations(&self, user: UserId) -> Result<Vec<Group>, ChatError> {
        let mut invited = Vec::new();
        for id in groups::invitations(&self.db, user).await? {
            invited.push(self.roster(id).await?.group_for(user));
        }
        Ok(invited)
    }

    /// An invited student answers. Accepting, they show as `alias` in this group (`None`:
    /// their display name), a name no other member shows under; they see the group from
    /// now on. Answers the group when they joined.
    pub async fn answer_invitation(
        &self,
        user: UserId,
        conversation: ConversationId,
        accept: bool,
        alias: Option<String>,
    ) -> Result<Option<Group>, ChatError> {
        let roster = self.roster(conversation).await?;
        let invited = roster
            .person(user)
            .is_some_and(|p| p.standing == Standing::Invited);
        if !invited {
            return Err(ChatError::ConversationNotFound);
        }
        let now = Timestamp::now();
        if !accept {
            groups::decline(&self.db, conversation, user, now).await?;
            return Ok(None);
        }
        if roster.closed() {
            return Err(ChatError::GroupClosed);
        }
        let alias = match alias {
            None => None,
            Some(raw) => {
                app::validation::check_alias(&raw).map_err(ChatError::InvalidAlias)?;
                Some(raw.trim().to_owned())
            }
        };
        let shown = match &alias {
            Some(alias) => alias.clone(),
            None => roster
                .person(user)
                .map(|p| p.display_name.clone())
                .unwrap_or_default(),
        };
        let key = shown.to_lowercase();
        let taken = roster
            .members()
            .iter()
            .filter_map(|m| roster.author(*m, Viewer::Student))
            .any(|a| a.name.to_lowercase() == key);
        if taken {
            return Err(ChatError::AliasTaken);
        }
        match groups::join(&self.db, conversation, user, alias.as_deref(), &key, now).await {
            Ok(true) => {}
            Ok(false) => return Err(ChatError::ConversationNotFound),
            Err(crate::store::StoreError::Conflict) => return Err(ChatError::AliasTaken),
            Err(other) => return Err(other.into()),
        }
        let roster = self.roster(conversation).await?;
        self.member_changed(&roster, user, MemberChange::Joined)
            .await?;
        Ok(Some(roster.group_for(user)))
    }

    /// A student leaves a group. The leader closes it instead.
    pub async fn leave_group(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), ChatError> {
        let roster = self.group_of_member(user, conversation).await?;
        if roster.viewer(user) == Viewer::Leader {
            return Err(ChatError::LeaderStays);
        }
        self.depart(roster, user, Standing::Left).await
    }

    /// The leader removes a member: their connections stop receiving the group at once,
    /// and they are told.
    pub async fn remove_member(
        &self,
        user: UserId,
        conversation: ConversationId,
        member: UserId,
    ) -> Result<(), ChatError> {
        let roster = self.led_group(user, conversation).await?;
        let is_student_member = member != user
            && roster
                .person(member)
                .is_some_and(|p| p.standing == Standing::Member);
        if !is_student_member {
            return Err(ChatError::UserNotFound);
        }
        self.depart(roster, member, Standing::Removed).await
    }

    /// A member leaves (`Left`) or is removed (`Removed`).
    async fn depart(
        &self,
        roster: Arc<Roster>,
        member: UserId,
        standing: Standing,
    ) -> Result<(), ChatError> {
        let conversation = roster.id();
        if !groups::depart(&self.db, conversation, member, standing, Timestamp::now()).await? {
            return Err(ChatError::ConversationNotFound);
        }
        self.publisher
            .publish(ChatEvent::GroupRemoved {
                update: GroupGone {
                    conversation_id: conversation,
                },
                to: Audience::Users(Arc::from([member])),
            })
            .await;
        let change = match standing {
            Standing::Removed => MemberChange::Removed,
            _ => MemberChange::Left,
        };
        let after = self.roster(conversation).await?;
        self.member_changed(&after, member, change).await
    }

    /// The leader removes a message: its body is deleted from storage, every member sees
    /// "message removed" in its place, and the access record notes it.
    pub async fn remove_message(
        &self,
        user: UserId,
        conversation: ConversationId,
        message: MessageId,
        address: Option<std::net::IpAddr>,
    ) -> Result<(), ChatError> {
        self.led_group(user, conversation).await?;
        // A refusal records nothing; a removal is recorded before it is made.
        if !groups::has_members_message(&self.db, conversation, message).await? {
            return Err(ChatError::UnknownMessage);
        }
        let now = Timestamp::now();
        access::record(
            &self.db,
            user,
            conversation,
            AccessKind::Moderation,
            address,
            now,
        )
        .await?;
        groups::remove_message(&self.db, conversation, message).await?;
        let roster = self.roster(conversation).await?;
        self.publisher
            .publish(ChatEvent::MessageRemoved {
                update: MessageRemoved {
                    conversation_id: conversation,
                    message_id: message,
                },
                to: Audience::Users(roster.members()),
            })
            .await;
        Ok(())
    }

    /// The leader closes the group: read-only for everyone from now on, with a line saying so.
    pub async fn close_group(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<(), ChatError> {
        let roster = self.led_group(user, conversation).await?;
        let closed_at = Timestamp::now();
        if !groups::close(&self.db, conversation, closed_at).await? {
            return Err(ChatError::GroupClosed);
        }
        self.post_line(&roster, LineEvent::Closed, None).await?;
        self.publisher
            .publish(ChatEvent::GroupClosed {
                update: GroupClosed {
                    conversation_id: conversation,
                    closed_at,
                },
                to: Audience::Users(roster.members()),
            })
            .await;
        Ok(())
    }

    /// Tells the members (as they stand now) that `subject` joined, left or was removed:
    /// the quiet line in the timeline, and `group:member`.
    async fn member_changed(
        &self,
        roster: &Roster,
        subject: UserId,
        change: MemberChange,
    ) -> Result<(), ChatError> {
        let event = match change {
            MemberChange::Joined => LineEvent::Joined,
            MemberChange::Left => LineEvent::Left,
            MemberChange::Removed => LineEvent::Removed,
        };
        self.post_line(roster, event, Some(subject)).await?;
        let students = u32::try_from(roster.group.students).unwrap_or(0);
        for (viewer, to) in audiences(roster, None) {
            if let Some(member) = roster.author(subject, viewer) {
                let update = MemberUpdate {
                    conversation_id: roster.id(),
                    member,
                    change,
                    students,
                };
                self.publisher
                    .publish(ChatEvent::GroupMember { update, to })
                    .await;
            }
        }
        Ok(())
    }

    /// Stores a quiet line and delivers it to the members.
    async fn post_line(
        &self,
        roster: &Roster,
        event: LineEvent,
        subject: Option<UserId>,
    ) -> Result<(), ChatError> {
        let line = messages::NewMessage {
            conversation_id: roster.id(),
            sender_id: None,
            client_id: ClientId(uuid::Uuid::new_v4().hyphenated().to_string()),
            body: String::new(),
            created_at: Timestamp::now(),
            line: Some(Line { event, subject }),
        };
        if let messages::Inserted::New(row) = self.writer.insert(line).await? {
            self.publish_group_message(roster, row).await;
        }
        Ok(())
    }

    /// Publishes a stored group message to the members: the leader's copy with everyone's
    /// ids, the students' copy with handles only.
    pub(super) async fn publish_group_message(
        &self,
        roster: &Roster,
        row: crate::store::messages::MessageRow,
    ) {
        for (viewer, to) in audiences(roster, None) {
            let message = roster.message(row.clone(), viewer);
            self.publisher
                .publish(ChatEvent::MessageStored { message, to })
                .await;
        }
    }

    /// The group as stored now, whoever asks (`ConversationNotFound` if it is none).
    pub(super) async fn roster(
        &self,
        conversation: ConversationId,
    ) -> Result<Arc<Roster>, ChatError> {
        let group = groups::find(&self.db, conversation)
            .await?
            .ok_or(ChatError::ConversationNotFound)?;
        let people = groups::people(&self.db, conversation).await?;
        Ok(Arc::new(Roster::new(group, people)))
    }

    /// A group `user` is a member of now.
    async fn group_of_member(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Arc<Roster>, ChatError> {
        match self.members.room(user, conversation).await? {
            Room::Group(roster) => Ok(roster),
            Room::Direct(_) => Err(ChatError::ConversationNotFound),
        }
    }

    /// A group `user` leads.
    async fn led_group(
        &self,
        user: UserId,
        conversation: ConversationId,
    ) -> Result<Arc<Roster>, ChatError> {
        let roster = self.group_of_member(user, conversation).await?;
        if roster.viewer(user) != Viewer::Leader {
            return Err(ChatError::NotLeader);
        }
        Ok(roster)
    }
}

/// A group's members now, as two audiences: the leader, and the students (but `except`);
/// empty audiences left out.
pub(super) fn audiences(roster: &Roster, except: Option<UserId>) -> Vec<(Viewer, Audience)> {
    let mut out = Vec::with_capacity(2);
    if Some(roster.leader()) != except && roster.members().contains(&roster.leader()) {
        out.push((
            Viewer::Leader,
            Audience::Users(Arc::from([roster.leader()])),
        ));
    }
    let students = roster.students_except(except);
    if !students.is_empty() {
        out.push((Viewer::Student, Audience::Users(students)));
    }
    out
}
