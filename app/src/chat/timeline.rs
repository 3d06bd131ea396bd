//! The open conversation's lines as plain data: stored messages in id order, then this
//! user's messages still on their way. Every arrival (ack, echo, another tab, the peer, a
//! replay) goes through [`receive`], which shows each message exactly once, in id order,
//! whichever copy comes first. No signals here: unit tests drive it directly.

use crate::protocol::{Author, Message, MessageId, MessageKind, Timestamp, UserId};

/// Where a message of this tab's user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// `None`: a notice from Haven, or in a group a student's message shown to another
    /// student (see `author`).
    pub sender_id: Option<UserId>,
    /// In a group: who wrote it (or whom a quiet line is about), as this user may see them.
    pub author: Option<Author>,
    pub body: String,
    pub created_at: Option<Timestamp>,
    pub delivery: Delivery,
    /// Why it failed, for the person.
    pub error: Option<String>,
    /// Text, a notice, erased with its account, removed by a group's leader, a quiet line.
    pub kind: MessageKind,
}

impl Item {
    /// Whether `me` (showing as `my_handle` in a group) wrote it.
    pub fn is_from(&self, me: UserId, my_handle: Option<&str>) -> bool {
        self.sender_id == Some(me)
            || (self.kind != MessageKind::Notice
                && !self.kind.is_group_line()
                && my_handle.is_some()
                && self.author.as_ref().map(|a| a.handle.as_str()) == my_handle)
    }
}

impl Item {
    /// The line of a stored message.
    pub fn stored(message: &Message) -> Self {
        Item {
            client_id: message.client_id.0.clone(),
            id: Some(message.id),
            sender_id: message.sender_id,
            author: message.author.clone(),
            body: message.body.clone(),
            created_at: Some(message.created_at),
            delivery: Delivery::Sent,
            error: None,
            kind: message.kind,
        }
    }
}

/// The lines of a page of history (oldest first).
pub fn from_history(messages: &[Message]) -> Vec<Item> {
    messages.iter().map(Item::stored).collect()
}

/// Puts older history in front, skipping ids already shown.
pub fn prepend(items: &mut Vec<Item>, older: &[Message]) {
    let mut merged: Vec<Item> = older
        .iter()
        .filter(|m| !items.iter().any(|i| i.id == Some(m.id)))
        .map(Item::stored)
        .collect();
    merged.append(items);
    *items = merged;
}

/// Adds one of `me`'s messages before the server has it.
pub fn add_pending(items: &mut Vec<Item>, me: UserId, client_id: String, body: String) {
    items.push(Item {
        client_id,
        id: None,
        sender_id: Some(me),
        author: None,
        body,
        created_at: None,
        delivery: Delivery::Sending,
        error: None,
        kind: MessageKind::Text,
    });
}

/// A group's leader removed message `id`: its text is gone, "message removed" in its place.
pub fn removed(items: &mut [Item], id: MessageId) {
    if let Some(item) = items.iter_mut().find(|i| i.id == Some(id)) {
        item.kind = MessageKind::Removed;
        item.body.clear();
    }
}

/// Marks a pending message as failed (with why), or as sending again.
pub fn set_delivery(
    items: &mut [Item],
    client_id: &str,
    delivery: Delivery,
    error: Option<String>,
) {
    if let Some(item) = items
        .iter_mut()
        .find(|i| i.client_id == client_id && i.id.is_none())
    {
        item.delivery = delivery;
        item.error = error;
    }
}

/// Takes in a stored message: an id already shown is dropped; our pending copy (same
/// `clientId`) becomes the stored one; the line goes where its id belongs, after stored
/// lines with smaller ids and before those with larger ones and before lines still pending.
/// Answers whether a line was added that was not on screen before.
pub fn receive(items: &mut Vec<Item>, message: &Message) -> bool {
    if items.iter().any(|i| i.id == Some(message.id)) {
        return false;
    }
    let pending = items
        .iter()
        .position(|i| i.client_id == message.client_id.0);
    if let Some(at) = pending {
        items.remove(at);
    }
    let at = items
        .iter()
        .position(|i| i.id.is_none_or(|id| id > message.id))
        .unwrap_or(items.len());
    items.insert(at, Item::stored(message));
    pending.is_none()
}

/// The newest stored message shown, if any.
pub fn newest_id(items: &[Item]) -> Option<MessageId> {
    items.iter().filter_map(|i| i.id).max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ClientId, ConversationId};

    const ME: UserId = UserId(1);
    const PEER: UserId = UserId(2);

    fn message(id: i64, sender: UserId, client_id: &str) -> Message {
        Message {
            id: MessageId(id),
            conversation_id: ConversationId(1),
            sender_id: Some(sender),
            kind: crate::protocol::MessageKind::Text,
            client_id: ClientId(client_id.to_owned()),
            body: format!("line {id}"),
            created_at: Timestamp::from_millis(1_800_000_000_000 + id),
            author: None,
        }
    }

    /// The ids on screen, in order (`None` for a line still pending).
    fn ids(items: &[Item]) -> Vec<Option<i64>> {
        items.iter().map(|i| i.id.map(|id| id.0)).collect()
    }

    fn sent_once(items: &[Item], id: i64) {
        let lines: Vec<&Item> = items
            .iter()
            .filter(|i| i.id == Some(MessageId(id)))
            .collect();
        assert_eq!(lines.len(), 1, "message {id} shown once: {items:?}");
        assert_eq!(lines[0].delivery, Delivery::Sent);
    }

    #[test]
    fn ack_before_echo() {
        let mut items = Vec::new();
        add_pending(&mut items, ME, "c1".into(), "line 5".into());
        let stored = message(5, ME, "c1");
        assert!(
            !receive(&mut items, &stored),
            "the ack confirms, adds nothing"
        );
        assert!(!receive(&mut items, &stored), "the echo is a repeat");
        assert_eq!(ids(&items), [Some(5)]);
        sent_once(&items, 5);
    }

    #[test]
    fn echo_before_ack() {
        let mut items = Vec::new();
        add_pending(&mut items, ME, "c1".into(), "line 5".into());
        let stored = message(5, ME, "c1");
        receive(&mut items, &stored);
        receive(&mut items, &stored);
        assert_eq!(ids(&items), [Some(5)]);
        sent_once(&items, 5);
    }

    #[test]
    fn echo_only_when_the_ack_is_lost() {
        let mut items = Vec::new();
        add_pending(&mut items, ME, "c1".into(), "line 5".into());
        receive(&mut items, &message(5, ME, "c1"));
        assert_eq!(ids(&items), [Some(5)]);
        sent_once(&items, 5);
    }

    #[test]
    fn a_replay_that_repeats_ids_shows_each_once() {
        let mut items = from_history(&[message(1, PEER, "a"), message(2, ME, "b")]);
        for id in [2, 3, 1, 3, 4] {
            let sender = if id % 2 == 0 { ME } else { PEER };
            receive(&mut items, &message(id, sender, &format!("x{id}")));
        }
        assert_eq!(ids(&items), [Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn out_of_order_ids_are_shown_in_id_order() {
        let mut items = Vec::new();
        assert!(receive(&mut items, &message(7, PEER, "a")));
        assert!(receive(&mut items, &message(3, PEER, "b")));
        assert!(receive(&mut items, &message(5, PEER, "c")));
        assert_eq!(ids(&items), [Some(3), Some(5), Some(7)]);
    }

    #[test]
    fn a_confirmed_message_moves_to_its_id_among_later_arrivals() {
        let mut items = from_history(&[message(1, PEER, "a")]);
        add_pending(&mut items, ME, "mine".into(), "hello".into());
        // The peer's message was stored before ours but arrives before our ack.
        receive(&mut items, &message(2, PEER, "b"));
        assert_eq!(ids(&items), [Some(1), Some(2), None], "pending stays last");
        receive(&mut items, &message(3, ME, "mine"));
        assert_eq!(ids(&items), [Some(1), Some(2), Some(3)]);
        // And one of ours stored *before* a peer line that was already shown.
        add_pending(&mut items, ME, "early".into(), "hi".into());
        receive(&mut items, &message(5, PEER, "c"));
        receive(&mut items, &message(4, ME, "early"));
        assert_eq!(ids(&items), [Some(1), Some(2), Some(3), Some(4), Some(5)]);
    }

    #[test]
    fn a_retry_after_a_failure_ends_sent_once() {
        let mut items = Vec::new();
        add_pending(&mut items, ME, "c1".into(), "line 9".into());
        set_delivery(
            &mut items,
            "c1",
            Delivery::Failed,
            Some("Could not reach Haven.".into()),
        );
        assert_eq!(items[0].delivery, Delivery::Failed);
        set_delivery(&mut items, "c1", Delivery::Sending, None);
        // The first attempt had been stored after all: its echo and the retry's ack agree.
        receive(&mut items, &message(9, ME, "c1"));
        receive(&mut items, &message(9, ME, "c1"));
        assert_eq!(ids(&items), [Some(9)]);
        sent_once(&items, 9);
        assert_eq!(items[0].error, None);
    }

    #[test]
    fn older_history_goes_in_front_without_repeats() {
        let mut items = from_history(&[message(3, PEER, "c"), message(4, ME, "d")]);
        prepend(
            &mut items,
            &[
                message(1, PEER, "a"),
                message(2, ME, "b"),
                message(3, PEER, "c"),
            ],
        );
        assert_eq!(ids(&items), [Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(newest_id(&items), Some(MessageId(4)));
    }
}
