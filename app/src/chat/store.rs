//! The chat's client state as signals: a thin shell over the plain reducers
//! ([`timeline`](super::timeline), [`inbox`](super::inbox), [`roster`](super::roster)) so
//! that components re-render when they change. The server renders the same first frame the
//! browser hydrates; in the browser the socket then feeds them.

use leptos::prelude::*;

use super::inbox;
use super::roster::{self, Roster};
use super::timeline::{self, Delivery, Item};
use crate::protocol::groups::{MemberChange, MemberUpdate};
use crate::protocol::{
    ConversationId, ConversationList, ConversationSummary, Group, GroupMember, GroupView, Message,
    MessageId, PresenceSnapshot, PresenceUpdate, ReadUpdate, Timestamp, TypingUpdate, UserId,
};

/// The connection as the banner shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Connected,
    Reconnecting,
}

/// Shared by the chat's components (context).
#[derive(Clone, Copy)]
pub struct ChatStore {
    pub me: UserId,
    pub conversations: RwSignal<Vec<ConversationSummary>>,
    /// Where the sidebar's next page starts, if there is one (the server's cursor).
    pub more: RwSignal<Option<String>>,
    pub open: RwSignal<Option<ConversationId>>,
    pub items: RwSignal<Vec<Item>>,
    pub connection: RwSignal<Connection>,
    /// The browser says it has no network (`navigator.onLine`, the `offline` event): the
    /// socket may not have noticed yet, but nothing can leave.
    pub network_offline: RwSignal<bool>,
    /// Bumped when a message arrives for an open conversation (scroll/pill logic).
    pub arrivals: RwSignal<u64>,
    /// The latest status of each person this user may see (from the socket).
    pub presence: RwSignal<Roster>,
    /// How far the other member of the open conversation has read, and when.
    pub peer_read: RwSignal<MessageId>,
    pub peer_read_at: RwSignal<Option<Timestamp>>,
    /// Whether the other member of the open conversation is typing; the number changes with
    /// every typing signal so that a stale expiry timer can tell it is stale.
    pub peer_typing: RwSignal<Option<u64>>,
    /// The open conversation's group and its members (with their read markers), if it is one.
    pub group: RwSignal<Option<GroupView>>,
    /// Who is typing in the open group: (handle, name, expiry token).
    pub group_typing: RwSignal<Vec<(String, String, u64)>>,
    /// Groups the user is invited to and has not answered.
    pub invitations: RwSignal<Vec<Group>>,
    /// The open group removed this user (or they left it in another tab).
    pub left_group: RwSignal<bool>,
}

impl ChatStore {
    /// A store for `me`, seeded with the server-rendered first page of the sidebar.
    pub fn new(me: UserId, first_page: ConversationList) -> Self {
        ChatStore {
            me,
            conversations: RwSignal::new(first_page.conversations),
            more: RwSignal::new(first_page.more),
            open: RwSignal::new(None),
            items: RwSignal::new(Vec::new()),
            connection: RwSignal::new(Connection::Connecting),
            network_offline: RwSignal::new(false),
            arrivals: RwSignal::new(0),
            presence: RwSignal::new(Roster::new()),
            peer_read: RwSignal::new(MessageId(0)),
            peer_read_at: RwSignal::new(None),
            peer_typing: RwSignal::new(None),
            group: RwSignal::new(None),
            group_typing: RwSignal::new(Vec::new()),
            invitations: RwSignal::new(first_page.invitations),
            left_group: RwSignal::new(false),
        }
    }

    /// This user's handle in the open group, if a group is open.
    pub fn my_handle(&self) -> Option<String> {
        self.group.with(|g| g.as_ref().map(|g| g.group.me.clone()))
    }

    /// Whether the open group is closed.
    pub fn group_closed(&self) -> bool {
        self.group
            .with(|g| g.as_ref().is_some_and(|g| g.group.closed_at.is_some()))
    }

    /// Takes in a page of the sidebar: `first` replaces what was listed (a new order, or
    /// a reload), a later page adds to it.
    pub fn take_page(&self, page: ConversationList, first: bool) {
        self.conversations.update(|list| {
            if first {
                list.clear();
            }
            inbox::add_page(list, page.conversations);
        });
        self.more.set(page.more);
    }

    /// The highest message id this tab has seen (for catch-up).
    pub fn highest_seen(&self) -> MessageId {
        let listed = self
            .conversations
            .with_untracked(|list| inbox::newest_id(list));
        let shown = self
            .items
            .with_untracked(|items| timeline::newest_id(items));
        listed.max(shown).unwrap_or_default()
    }

    /// Shows a conversation's history (server-rendered or loaded).
    pub fn show(
        &self,
        id: ConversationId,
        messages: &[Message],
        peer_read: MessageId,
        read_at: Option<Timestamp>,
        group: Option<GroupView>,
    ) {
        self.open.set(Some(id));
        self.group.set(group);
        self.group_typing.set(Vec::new());
        self.left_group.set(false);
        self.peer_read.set(peer_read);
        self.peer_read_at.set(read_at);
        self.peer_typing.set(None);
        self.items.set(timeline::from_history(messages));
        self.mark_read(id);
    }

    /// Prepends older history.
    pub fn prepend(&self, older: &[Message]) {
        self.items.update(|items| timeline::prepend(items, older));
    }

    /// Whether the open conversation holds a message with this `clientId`.
    pub fn has_client_id(&self, client_id: &str) -> bool {
        self.items
            .with_untracked(|items| items.iter().any(|i| i.client_id == client_id))
    }

    /// Adds one of our messages before the server has it.
    pub fn add_pending(&self, client_id: String, body: String) {
        self.items
            .update(|items| timeline::add_pending(items, self.me, client_id, body));
        self.arrivals.update(|n| *n += 1);
    }

    /// Marks one of ours as failed, or as sending again.
    pub fn set_delivery(&self, client_id: &str, delivery: Delivery, error: Option<String>) {
        self.items
            .update(|items| timeline::set_delivery(items, client_id, delivery, error));
    }

    /// Takes in a stored message, from an ack, an echo, another tab or the peer (see
    /// [`timeline::receive`]). Answers whether the sidebar knew the conversation.
    pub fn receive(&self, message: &Message) -> bool {
        let open = self.open.get_untracked() == Some(message.conversation_id);
        if open {
            let mut added = false;
            self.items
                .update(|items| added = timeline::receive(items, message));
            if added {
                self.arrivals.update(|n| *n += 1);
            }
            if message.sender_id != Some(self.me) {
                self.peer_typing.set(None);
            }
            if let Some(author) = &message.author {
                self.group_typing
                    .update(|typing| typing.retain(|(handle, _, _)| *handle != author.handle));
            }
        }
        let mut known = false;
        self.conversations
            .update(|list| known = inbox::receive(list, self.me, message, open));
        known
    }

    /// A tab title with the unread count in front: "(3) Haven".
    /// Page titles land in browser history, task bars and screen sharing, so they are
    /// fixed text (`'static`: never a name or a message), with the unread count only.
    pub fn title(&self, base: &'static str) -> String {
        match self.conversations.with(|list| inbox::total_unread(list)) {
            0 => base.to_owned(),
            n => format!("({n}) {base}"),
        }
    }

    /// Takes in a `conversation:read` event.
    pub fn receive_read(&self, update: &ReadUpdate) {
        let open = self.open.get_untracked() == Some(update.conversation_id);
        let my_handle = self.my_handle();
        let mine = update.user_id == Some(self.me)
            || (open
                && update
                    .author
                    .as_ref()
                    .is_some_and(|a| Some(&a.handle) == my_handle.as_ref()));
        if let (Some(author), true, false) = (&update.author, open, mine) {
            // A member of the open group read further: "Seen by N" counts them.
            self.group.update(|group| {
                if let Some(member) = group.as_mut().and_then(|g| {
                    g.members
                        .iter_mut()
                        .find(|m| m.author.handle == author.handle)
                }) {
                    member.last_read_id = member.last_read_id.max(update.last_read_id);
                }
            });
            return;
        }
        if mine {
            self.conversations
                .update(|list| inbox::read_elsewhere(list, update));
        } else if self.open.get_untracked() == Some(update.conversation_id)
            && update.last_read_id >= self.peer_read.get_untracked()
        {
            // The time first: the lines re-render on the marker and read the time then.
            self.peer_read_at.set(update.read_at);
            self.peer_read.set(update.last_read_id);
        }
    }

    /// Takes in a `typing` event for the open conversation; answers the token a later
    /// expiry must match to clear it.
    pub fn receive_typing(&self, update: &TypingUpdate) -> Option<u64> {
        if self.open.get_untracked() != Some(update.conversation_id)
            || update.user_id == Some(self.me)
        {
            return None;
        }
        if let Some(author) = &update.author {
            let mut token = None;
            self.group_typing.update(|typing| {
                typing.retain(|(handle, _, _)| *handle != author.handle);
                if update.typing {
                    let next = typing.iter().map(|(_, _, t)| *t).max().unwrap_or(0) + 1;
                    typing.push((author.handle.clone(), author.name.clone(), next));
                    token = Some(next);
                }
            });
            return token;
        }
        if update.typing {
            let token = self.peer_typing.get_untracked().unwrap_or(0) + 1;
            self.peer_typing.set(Some(token));
            Some(token)
        } else {
            self.peer_typing.set(None);
            None
        }
    }

    /// Someone joined, left or was removed from a group.
    pub fn receive_member(&self, update: &MemberUpdate) {
        self.conversations.update(|list| {
            if let Some(group) = list
                .iter_mut()
                .find(|c| c.id == update.conversation_id)
                .and_then(|c| c.group.as_mut())
            {
                group.students = update.students;
            }
        });
        if self.open.get_untracked() != Some(update.conversation_id) {
            return;
        }
        self.group.update(|group| {
            let Some(group) = group.as_mut() else { return };
            group.group.students = update.students;
            group
                .members
                .retain(|m| m.author.handle != update.member.handle);
            if update.change == MemberChange::Joined {
                group.members.push(GroupMember {
                    author: update.member.clone(),
                    last_read_id: MessageId(0),
                });
            }
        });
    }

    /// This user left or was removed from a group: it leaves the sidebar, and an open page
    /// says so.
    pub fn leave_group(&self, id: ConversationId) {
        self.conversations.update(|list| inbox::remove(list, id));
        if self.open.get_untracked() == Some(id) {
            self.left_group.set(true);
        }
    }

    /// The group's leader removed a message.
    pub fn message_removed(&self, conversation: ConversationId, id: MessageId) {
        if self.open.get_untracked() == Some(conversation) {
            self.items.update(|items| timeline::removed(items, id));
        }
    }

    /// The group's leader closed it at `at`.
    pub fn close_group(&self, id: ConversationId, at: Timestamp) {
        let now = Some(at);
        self.conversations.update(|list| {
            if let Some(group) = list
                .iter_mut()
                .find(|c| c.id == id)
                .and_then(|c| c.group.as_mut())
            {
                group.closed_at = group.closed_at.or(now);
            }
        });
        if self.open.get_untracked() == Some(id) {
            self.group.update(|group| {
                if let Some(group) = group.as_mut() {
                    group.group.closed_at = group.group.closed_at.or(now);
                }
            });
        }
    }

    /// An invitation arrived (or was answered: `answered`).
    pub fn invited(&self, group: Group) {
        self.invitations.update(|list| {
            list.retain(|g| g.id != group.id);
            list.insert(0, group);
        });
    }

    /// An invitation was answered here.
    pub fn answered(&self, id: ConversationId) {
        self.invitations.update(|list| list.retain(|g| g.id != id));
    }

    /// Takes in a `presence` event.
    pub fn set_presence(&self, update: PresenceUpdate) {
        self.presence.update(|map| roster::set(map, update));
    }

    /// Takes in a `presence:snapshot` (see [`roster::apply_snapshot`]).
    pub fn apply_presence_snapshot(&self, snapshot: &PresenceSnapshot) {
        self.presence
            .update(|map| roster::apply_snapshot(map, snapshot));
    }

    /// Whether `user` is online, if known yet.
    /// Whether this tab has lost its link (no network, or the socket is reconnecting):
    /// what it shows of others' status is then out of date, and nothing it sends can leave.
    pub fn link_down(&self) -> bool {
        self.network_offline.get() || self.connection.get() == Connection::Reconnecting
    }

    pub fn is_online(&self, user: UserId) -> Option<bool> {
        self.presence.with(|map| map.get(&user).map(|p| p.online))
    }

    /// Clears a conversation's unread count (it is on screen).
    pub fn mark_read(&self, id: ConversationId) {
        self.conversations
            .update(|list| inbox::clear_unread(list, id));
    }

    /// The user marked the conversation unread (here or in another tab).
    pub fn mark_unread(&self, id: ConversationId) {
        self.conversations
            .update(|list| inbox::marked_unread(list, id));
    }

    /// The psychiatrist marked the conversation handled.
    pub fn mark_handled(&self, id: ConversationId) {
        self.conversations.update(|list| inbox::handled(list, id));
    }

    /// Since when the student of conversation `id` awaits a reply, if they do.
    pub fn awaiting_since(&self, id: ConversationId) -> Option<crate::protocol::Timestamp> {
        self.conversations.with(|list| {
            list.iter()
                .find(|c| c.id == id)
                .and_then(|c| c.awaiting_since)
        })
    }
}
