//! A group as stored now, and what each member may see of the others: the one place that
//! decides how a person in a group is shown. A student sees other students only by their
//! per-group handle and chosen name; the leader sees everyone's user id and, behind an
//! alias, their display name (docs/privacy.md).

use std::sync::Arc;

use app::protocol::{Author, ConversationId, Group, GroupMember, Message, Role, UserId};

use crate::store::groups::{GroupRow, PersonRow, Standing};
use crate::store::messages::MessageRow;

use super::wire;

/// Whom an event or an answer is for: the group's leader, or one of its students.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Leader,
    Student,
}

/// A group and everyone ever invited to it.
#[derive(Debug, Clone)]
pub struct Roster {
    pub group: GroupRow,
    people: Vec<PersonRow>,
}

impl Roster {
    /// The group `group` with its `people` (from `store::groups::people`).
    pub fn new(group: GroupRow, people: Vec<PersonRow>) -> Self {
        Self { group, people }
    }

    /// The conversation's id.
    pub fn id(&self) -> ConversationId {
        self.group.conversation_id
    }

    /// The psychiatrist who leads it.
    pub fn leader(&self) -> UserId {
        self.group.leader_id
    }

    /// Whether the leader closed it.
    pub fn closed(&self) -> bool {
        self.group.closed_at.is_some()
    }

    /// How `user` sees this group.
    pub fn viewer(&self, user: UserId) -> Viewer {
        if user == self.leader() {
            Viewer::Leader
        } else {
            Viewer::Student
        }
    }

    /// Someone's row, if they were ever invited.
    pub fn person(&self, user: UserId) -> Option<&PersonRow> {
        self.people.iter().find(|p| p.user_id == user)
    }

    /// Everyone who is a member now, the leader included.
    pub fn members(&self) -> Arc<[UserId]> {
        self.people
            .iter()
            .filter(|p| p.standing == Standing::Member)
            .map(|p| p.user_id)
            .collect()
    }

    /// The students who are members now, but `except`.
    pub fn students_except(&self, except: Option<UserId>) -> Arc<[UserId]> {
        self.people
            .iter()
            .filter(|p| p.standing == Standing::Member && p.user_id != self.leader())
            .filter(|p| Some(p.user_id) != except)
            .map(|p| p.user_id)
            .collect()
    }

    /// How `viewer` sees `subject` (`None` if they were never invited).
    pub fn author(&self, subject: UserId, viewer: Viewer) -> Option<Author> {
        self.person(subject).map(|p| author(p, viewer))
    }

    /// A stored message of this group as `viewer` sees it: its author (or the person a
    /// quiet line is about) by handle and chosen name; a student's user id only to the
    /// leader.
    pub fn message(&self, row: MessageRow, viewer: Viewer) -> Message {
        let subject = row.sender_id.or(row.subject_id);
        let mut message = wire::message(row);
        message.author = subject.and_then(|s| self.author(s, viewer));
        if viewer == Viewer::Student && message.sender_id != Some(self.leader()) {
            message.sender_id = None;
        }
        message
    }

    /// The group as `user` sees it.
    pub fn group_for(&self, user: UserId) -> Group {
        let viewer = self.viewer(user);
        let leader = self
            .author(self.leader(), viewer)
            .unwrap_or_else(|| Author {
                handle: String::new(),
                name: String::new(),
                role: Role::Psychiatrist,
                user_id: Some(self.leader()),
                display_name: None,
            });
        Group {
            id: self.id(),
            name: self.group.name.clone(),
            description: self.group.description.clone(),
            member_limit: u32::try_from(self.group.member_limit).unwrap_or(0),
            students: u32::try_from(self.group.students).unwrap_or(0),
            leader,
            me: self
                .person(user)
                .map(|p| p.handle.clone())
                .unwrap_or_default(),
            closed_at: self.group.closed_at,
        }
    }

    /// The members now as `user` sees them, with how far each has read.
    pub fn members_for(&self, user: UserId) -> Vec<GroupMember> {
        let viewer = self.viewer(user);
        self.people
            .iter()
            .filter(|p| p.standing == Standing::Member)
            .map(|p| GroupMember {
                author: author(p, viewer),
                last_read_id: p.last_read_id,
            })
            .collect()
    }
}

/// `person` as `viewer` sees them.
fn author(person: &PersonRow, viewer: Viewer) -> Author {
    let to_leader = viewer == Viewer::Leader;
    Author {
        handle: person.handle.clone(),
        name: person
            .alias
            .clone()
            .unwrap_or_else(|| person.display_name.clone()),
        role: person.role,
        // A psychiatrist's id is public (students open conversations by it).
        user_id: (to_leader || person.role == Role::Psychiatrist).then_some(person.user_id),
        display_name: if to_leader && person.alias.is_some() {
            Some(person.display_name.clone())
        } else {
            None
        },
    }
}
