//! The chat's client state: the sidebar's conversations, the open conversation's messages
//! (optimistic ones included) and the connection. Plain signals, so the server renders the
//! same first frame the browser hydrates; in the browser the socket then feeds them.

use leptos::prelude::*;

use std::collections::HashMap;

use crate::protocol::{
    ConversationId, ConversationSummary, Message, MessageId, PresenceSnapshot, PresenceUpdate,
    UserId,
};

/// Where a message of this tab's user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Shown at once, not yet acknowledged.
    Sending,
    /// Stored by the server.
    Sent,
    /// Refused or unreachable; can be retried.
    Failed,
}

/// One line in the conversation: a stored message, or one of ours still on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub client_id: String,
    pub id: Option<MessageId>,
    pub sender_id: UserId,
    pub body: String,
    pub created_at: Option<String>,
    pub delivery: Delivery,
    /// Why it failed, for the person.
    pub error: Option<String>,
}

impl Item {
    fn stored(message: &Message) -> Self {
        Item {
            client_id: message.client_id.0.clone(),
            id: Some(message.id),
            sender_id: message.sender_id,
            body: message.body.clone(),
            created_at: Some(message.created_at.clone()),
            delivery: Delivery::Sent,
            error: None,
        }
    }
}

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
    pub open: RwSignal<Option<ConversationId>>,
    pub items: RwSignal<Vec<Item>>,
    pub connection: RwSignal<Connection>,
    /// Bumped when a message arrives for an open conversation (scroll/pill logic).
    pub arrivals: RwSignal<u64>,
    /// The latest status of each person this user may see (from the socket).
    pub presence: RwSignal<HashMap<UserId, PresenceUpdate>>,
    /// How far the other member of the open conversation has read, and when.
    pub peer_read: RwSignal<MessageId>,
    pub peer_read_at: RwSignal<Option<String>>,
    /// Whether the other member of the open conversation is typing; the number changes with
    /// every typing signal so that a stale expiry timer can tell it is stale.
    pub peer_typing: RwSignal<Option<u64>>,
}

impl ChatStore {
    /// A store for `me`, seeded with the server-rendered sidebar.
    pub fn new(me: UserId, conversations: Vec<ConversationSummary>) -> Self {
        ChatStore {
            me,
            conversations: RwSignal::new(conversations),
            open: RwSignal::new(None),
            items: RwSignal::new(Vec::new()),
            connection: RwSignal::new(Connection::Connecting),
            arrivals: RwSignal::new(0),
            presence: RwSignal::new(HashMap::new()),
            peer_read: RwSignal::new(MessageId(0)),
            peer_read_at: RwSignal::new(None),
            peer_typing: RwSignal::new(None),
        }
    }

    /// The highest message id this tab has seen (for catch-up).
    pub fn highest_seen(&self) -> i64 {
        let in_sidebar = self.conversations.with_untracked(|list| {
            list.iter()
                .filter_map(|c| c.last_message.as_ref().map(|m| m.id.0))
                .max()
                .unwrap_or(0)
        });
        let in_view = self.items.with_untracked(|items| {
            items
                .iter()
                .filter_map(|i| i.id.map(|id| id.0))
                .max()
                .unwrap_or(0)
        });
        in_sidebar.max(in_view)
    }

    /// Shows a conversation's history (server-rendered or loaded).
    pub fn show(
        &self,
        id: ConversationId,
        messages: &[Message],
        peer_read: MessageId,
        read_at: Option<String>,
    ) {
        self.open.set(Some(id));
        self.peer_read.set(peer_read);
        self.peer_read_at.set(read_at);
        self.peer_typing.set(None);
        self.items.set(messages.iter().map(Item::stored).collect());
        self.mark_read(id);
    }

    /// Prepends older history.
    pub fn prepend(&self, older: &[Message]) {
        self.items.update(|items| {
            let mut merged: Vec<Item> = older
                .iter()
                .filter(|m| !items.iter().any(|i| i.id == Some(m.id)))
                .map(Item::stored)
                .collect();
            merged.append(items);
            *items = merged;
        });
    }

    /// Adds one of our messages before the server has it.
    pub fn add_pending(&self, client_id: String, body: String) {
        self.items.update(|items| {
            items.push(Item {
                client_id,
                id: None,
                sender_id: self.me,
                body,
                created_at: None,
                delivery: Delivery::Sending,
                error: None,
            })
        });
        self.arrivals.update(|n| *n += 1);
    }

    /// Marks one of ours as failed, or as sending again.
    pub fn set_delivery(&self, client_id: &str, delivery: Delivery, error: Option<String>) {
        self.items.update(|items| {
            if let Some(item) = items
                .iter_mut()
                .find(|i| i.client_id == client_id && i.id.is_none())
            {
                item.delivery = delivery;
                item.error = error;
            }
        });
    }

    /// Takes in a stored message, from an ack, an echo, another tab or the peer: the
    /// optimistic copy becomes the real one exactly once, whichever comes first; ids already
    /// shown are dropped; order is the server's id order. Answers whether the sidebar knew
    /// the conversation.
    pub fn receive(&self, message: &Message) -> bool {
        if self.open.get_untracked() == Some(message.conversation_id) {
            let mut added = false;
            self.items.update(|items| {
                if items.iter().any(|i| i.id == Some(message.id)) {
                    return;
                }
                if let Some(item) = items
                    .iter_mut()
                    .find(|i| i.client_id == message.client_id.0)
                {
                    *item = Item::stored(message);
                    return;
                }
                let at = items
                    .iter()
                    .position(|i| i.id.is_some_and(|id| id > message.id))
                    .unwrap_or(items.len());
                items.insert(at, Item::stored(message));
                added = true;
            });
            if added {
                self.arrivals.update(|n| *n += 1);
            }
            if message.sender_id != self.me {
                self.peer_typing.set(None);
            }
        }
        self.update_sidebar(message)
    }

    fn update_sidebar(&self, message: &Message) -> bool {
        let open = self.open.get_untracked() == Some(message.conversation_id);
        let mut known = false;
        self.conversations.update(|list| {
            let Some(summary) = list.iter_mut().find(|c| c.id == message.conversation_id) else {
                return;
            };
            known = true;
            let newer = summary
                .last_message
                .as_ref()
                .is_none_or(|m| m.id < message.id);
            if newer {
                if message.sender_id != self.me && !open {
                    summary.unread += 1;
                }
                summary.last_message = Some(message.clone());
            }
            list.sort_by_key(|c| std::cmp::Reverse(c.last_message.as_ref().map_or(0, |m| m.id.0)));
        });
        known
    }

    /// A tab title with the unread count in front: "(3) Haven".
    /// Page titles land in browser history, task bars and screen sharing, so they are
    /// fixed text (`'static`: never a name or a message), with the unread count only.
    pub fn title(&self, base: &'static str) -> String {
        match self.total_unread() {
            0 => base.to_owned(),
            n => format!("({n}) {base}"),
        }
    }

    /// The total of unread messages (for the tab title).
    pub fn total_unread(&self) -> u32 {
        self.conversations
            .with(|list| list.iter().map(|c| c.unread).sum())
    }

    /// Takes in a `conversation:read` event.
    pub fn receive_read(&self, update: &crate::protocol::ReadUpdate) {
        if update.user_id == self.me {
            // Read in another tab of ours.
            self.conversations.update(|list| {
                if let Some(summary) = list.iter_mut().find(|c| c.id == update.conversation_id) {
                    if summary
                        .last_message
                        .as_ref()
                        .is_none_or(|m| m.id <= update.last_read_id)
                    {
                        summary.unread = 0;
                    }
                }
            });
        } else if self.open.get_untracked() == Some(update.conversation_id)
            && update.last_read_id >= self.peer_read.get_untracked()
        {
            // The time first: the lines re-render on the marker and read the time then.
            self.peer_read_at.set(update.read_at.clone());
            self.peer_read.set(update.last_read_id);
        }
    }

    /// Takes in a `typing` event for the open conversation; answers the token a later
    /// expiry must match to clear it.
    pub fn receive_typing(&self, update: &crate::protocol::TypingUpdate) -> Option<u64> {
        if self.open.get_untracked() != Some(update.conversation_id) || update.user_id == self.me {
            return None;
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

    /// Takes in a `presence` event.
    pub fn set_presence(&self, update: PresenceUpdate) {
        self.presence.update(|map| {
            map.insert(update.user_id, update);
        });
    }

    /// Takes in a `presence:snapshot`: the listed users are online, those listed as gone
    /// are offline since the time given, and everyone else known is offline (keeping the
    /// `lastSeen` known for them).
    pub fn apply_presence_snapshot(&self, snapshot: &PresenceSnapshot) {
        self.presence.update(|map| {
            for (user, status) in map.iter_mut() {
                let online = snapshot.online.contains(user);
                if status.online && !online {
                    status.online = false;
                } else if online {
                    status.online = true;
                    status.last_seen = None;
                }
            }
            for user in &snapshot.online {
                map.entry(*user).or_insert_with(|| PresenceUpdate {
                    user_id: *user,
                    online: true,
                    last_seen: None,
                });
            }
            // Those who left while this tab was away: their time, not just "offline".
            for gone in &snapshot.offline {
                map.insert(gone.user_id, gone.clone());
            }
        });
    }

    /// Whether `user` is online, if known yet.
    pub fn is_online(&self, user: UserId) -> Option<bool> {
        self.presence.with(|map| map.get(&user).map(|p| p.online))
    }

    /// Clears a conversation's unread count (it is on screen).
    pub fn mark_read(&self, id: ConversationId) {
        self.conversations.update(|list| {
            if let Some(summary) = list.iter_mut().find(|c| c.id == id) {
                summary.unread = 0;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presence_snapshot_sets_who_is_online_and_when_the_others_left() {
        // Signals live in an owner's arena (sandboxed under `ssr`).
        Owner::new_root(None).with(snapshot_updates_the_store);
    }

    fn snapshot_updates_the_store() {
        let store = ChatStore::new(UserId(1), Vec::new());
        let earlier = "2026-11-22T10:00:00Z".to_owned();
        store.set_presence(PresenceUpdate {
            user_id: UserId(7),
            online: true,
            last_seen: None,
        });
        store.set_presence(PresenceUpdate {
            user_id: UserId(8),
            online: false,
            last_seen: Some(earlier.clone()),
        });
        store.set_presence(PresenceUpdate {
            user_id: UserId(9),
            online: false,
            last_seen: Some(earlier.clone()),
        });
        // 7 left while this tab was disconnected, 8 came back, 10 is new; 9 is unchanged;
        // the server knows when 7 left.
        let left = "2026-11-23T01:56:40.5Z".to_owned();
        store.apply_presence_snapshot(&PresenceSnapshot {
            online: vec![UserId(8), UserId(10)],
            offline: vec![PresenceUpdate {
                user_id: UserId(7),
                online: false,
                last_seen: Some(left.clone()),
            }],
            at: "2026-11-23T02:00:00Z".to_owned(),
        });
        assert_eq!(store.is_online(UserId(7)), Some(false));
        assert_eq!(store.is_online(UserId(8)), Some(true));
        assert_eq!(store.is_online(UserId(10)), Some(true));
        assert_eq!(store.is_online(UserId(9)), Some(false));
        let last_seen = |user| {
            store
                .presence
                .with_untracked(|map: &HashMap<UserId, PresenceUpdate>| {
                    map.get(&user).and_then(|p| p.last_seen.clone())
                })
        };
        assert_eq!(last_seen(UserId(8)), None, "online has no last seen");
        assert_eq!(last_seen(UserId(9)), Some(earlier));
        assert_eq!(
            last_seen(UserId(7)),
            Some(left),
            "the time 7 left, not a bare offline"
        );
    }
}
