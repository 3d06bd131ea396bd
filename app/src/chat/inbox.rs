//! The sidebar's conversations as plain data: newest activity first, each with its last
//! message and unread count. No signals here: unit tests drive it directly.

use crate::protocol::{
    ConversationId, ConversationSummary, Message, MessageId, MessageKind, ReadUpdate, UserId,
};

/// Takes in a stored message for `me`'s sidebar: a newer last message moves its
/// conversation to the top, and counts as unread unless it is ours or on screen (`open`).
/// A notice from Haven changes nothing once a person wrote.
/// Answers whether the conversation is listed (a new one needs a reload of the list).
pub fn receive(
    list: &mut [ConversationSummary],
    me: UserId,
    message: &Message,
    open: bool,
) -> bool {
    let Some(summary) = list.iter_mut().find(|c| c.id == message.conversation_id) else {
        return false;
    };
    // Haven's notice follows a person's message; the preview keeps their words (triage
    // reads the student's message, not the notice), as the server's list does. A group's
    // quiet lines are Haven's too.
    let by_person = matches!(
        message.kind,
        MessageKind::Text | MessageKind::Erased | MessageKind::Removed
    );
    if !by_person && summary.last_message.is_some() {
        return true;
    }
    // In a group a student's own messages carry their handle, not their id.
    let mine = message.sender_id == Some(me)
        || summary
            .group
            .as_ref()
            .is_some_and(|g| message.author.as_ref().is_some_and(|a| a.handle == g.me));
    let newer = summary
        .last_message
        .as_ref()
        .is_none_or(|m| m.id < message.id);
    if newer {
        if by_person && !mine && !open {
            summary.unread += 1;
        }
        // Waiting since their first message after our last one; our message answers it. A
        // group never awaits a reply (triage is for one student and their psychiatrist).
        match (by_person && summary.group.is_none(), mine) {
            (true, true) => summary.awaiting_since = None,
            (true, false) => {
                summary.awaiting_since.get_or_insert(message.created_at);
            }
            (false, _) => {}
        }
        summary.last_message = Some(message.clone());
        list.sort_by_key(|c| std::cmp::Reverse(c.last_message.as_ref().map_or(0, |m| m.id.0)));
    }
    true
}

/// `me` read up to `update.last_read_id` in another tab: the conversation is read if that
/// covers its last message.
pub fn read_elsewhere(list: &mut [ConversationSummary], update: &ReadUpdate) {
    if let Some(summary) = list.iter_mut().find(|c| c.id == update.conversation_id) {
        if summary
            .last_message
            .as_ref()
            .is_none_or(|m| m.id <= update.last_read_id)
        {
            summary.unread = 0;
        }
    }
}

/// The user marked the conversation unread: it counts as unread (once) until opened again.
pub fn marked_unread(list: &mut [ConversationSummary], id: ConversationId) {
    if let Some(summary) = list.iter_mut().find(|c| c.id == id) {
        summary.unread = summary.unread.max(1);
    }
}

/// The conversation is on screen: nothing in it is unread.
pub fn clear_unread(list: &mut [ConversationSummary], id: ConversationId) {
    if let Some(summary) = list.iter_mut().find(|c| c.id == id) {
        summary.unread = 0;
    }
}

/// Marked handled: no longer awaiting a reply.
pub fn handled(list: &mut [ConversationSummary], id: ConversationId) {
    if let Some(summary) = list.iter_mut().find(|c| c.id == id) {
        summary.awaiting_since = None;
    }
}

/// `me` left or was removed from a group: it leaves the sidebar.
pub fn remove(list: &mut Vec<ConversationSummary>, id: ConversationId) {
    list.retain(|c| c.id != id);
}

/// Adds a page from the server to the list: conversations already listed are replaced by
/// the server's newer view, the others are added; the list stays most recent first.
pub fn add_page(list: &mut Vec<ConversationSummary>, page: Vec<ConversationSummary>) {
    for summary in page {
        match list.iter_mut().find(|c| c.id == summary.id) {
            Some(listed) => *listed = summary,
            None => list.push(summary),
        }
    }
    // Stable, newest activity first; a conversation without messages last.
    list.sort_by_key(|c| std::cmp::Reverse(c.last_message.as_ref().map_or(0, |m| m.id.0)));
}

/// The list ordered for triage: those waiting longest first, then the rest by activity.
pub fn longest_waiting_first(list: &[ConversationSummary]) -> Vec<ConversationSummary> {
    let mut sorted = list.to_vec();
    // Stable: the rest keep their most-recent-first order.
    sorted.sort_by_key(|c| c.awaiting_since.map_or(i64::MAX, |t| t.as_millis()));
    sorted
}

/// All unread messages (the tab title's count).
pub fn total_unread(list: &[ConversationSummary]) -> u32 {
    list.iter().map(|c| c.unread).sum()
}

/// The newest message id listed.
pub fn newest_id(list: &[ConversationSummary]) -> Option<MessageId> {
    list.iter()
        .filter_map(|c| c.last_message.as_ref().map(|m| m.id))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ClientId, Person, Role, Timestamp};

    const ME: UserId = UserId(1);

    fn summary(id: i64, last: Option<i64>) -> ConversationSummary {
        ConversationSummary {
            id: ConversationId(id),
            peer: Person {
                id: UserId(100 + id),
                display_name: format!("Peer {id}"),
                role: Role::Psychiatrist,
                bio: String::new(),
                availability: None,
                student: None,
            },
            group: None,
            last_message: last.map(|m| message(id, m, UserId(100 + id))),
            unread: 0,
            awaiting_since: None,
        }
    }

    fn message(conversation: i64, id: i64, sender: UserId) -> Message {
        Message {
            id: MessageId(id),
            conversation_id: ConversationId(conversation),
            sender_id: Some(sender),
            kind: crate::protocol::MessageKind::Text,
            client_id: ClientId(format!("c{id}")),
            body: "synthetic".into(),
            created_at: Timestamp::from_millis(id),
            author: None,
        }
    }

    #[test]
    fn a_notice_after_the_students_words_leaves_their_words_in_the_preview() {
        let mut list = vec![summary(1, None)];
        let words = message(1, 5, UserId(101));
        receive(&mut list, ME, &words, false);
        let notice = Message {
            sender_id: None,
            kind: crate::protocol::MessageKind::Notice,
            ..message(1, 6, UserId(0))
        };
        receive(&mut list, ME, &notice, false);
        assert_eq!(list[0].last_message.as_ref(), Some(&words));
        assert_eq!(list[0].unread, 1, "a notice is nobody's unread message");
    }

    #[test]
    fn in_a_group_our_messages_are_known_by_handle_and_others_count_unread() {
        use crate::protocol::{Author, Group};
        let author = |handle: &str| Author {
            handle: handle.into(),
            name: "Synthetic".into(),
            role: Role::Student,
            user_id: None,
            display_name: None,
        };
        let mut list = vec![ConversationSummary {
            group: Some(Group {
                id: ConversationId(1),
                name: "Group".into(),
                description: String::new(),
                member_limit: 12,
                students: 2,
                leader: author("glead"),
                me: "gme".into(),
                closed_at: None,
            }),
            ..summary(1, None)
        }];
        // Another student's message: no sender id reaches us, only their handle.
        let theirs = Message {
            sender_id: None,
            author: Some(author("gother")),
            ..message(1, 5, UserId(0))
        };
        receive(&mut list, ME, &theirs, false);
        assert_eq!(list[0].unread, 1);
        let mine = Message {
            sender_id: None,
            author: Some(author("gme")),
            ..message(1, 6, UserId(0))
        };
        assert_eq!(list[0].awaiting_since, None, "a group never awaits a reply");
        receive(&mut list, ME, &mine, false);
        assert_eq!(list[0].unread, 1, "our own message is not unread");
        let line = Message {
            sender_id: None,
            kind: crate::protocol::MessageKind::MemberJoined,
            author: Some(author("gnew")),
            ..message(1, 7, UserId(0))
        };
        receive(&mut list, ME, &line, false);
        assert_eq!(
            list[0].last_message.as_ref(),
            Some(&mine),
            "a quiet line is no one's words"
        );
        assert_eq!(list[0].unread, 1);
    }

    #[test]
    fn a_students_message_awaits_a_reply_until_ours_and_sorts_longest_first() {
        let mut list = vec![summary(1, Some(1)), summary(2, Some(2))];
        // Conversation 2's student waits since message 3, conversation 1's since 4.
        receive(&mut list, ME, &message(2, 3, UserId(102)), false);
        receive(&mut list, ME, &message(1, 4, UserId(101)), true);
        receive(&mut list, ME, &message(1, 5, UserId(101)), true);
        let waiting = |l: &[ConversationSummary]| -> Vec<(i64, Option<i64>)> {
            l.iter()
                .map(|c| (c.id.0, c.awaiting_since.map(|t| t.as_millis())))
                .collect()
        };
        assert_eq!(
            waiting(&list),
            [(1, Some(4)), (2, Some(3))],
            "opening does not clear it"
        );
        assert_eq!(
            waiting(&longest_waiting_first(&list)),
            [(2, Some(3)), (1, Some(4))]
        );
        receive(&mut list, ME, &message(2, 6, ME), false);
        handled(&mut list, ConversationId(1));
        assert_eq!(waiting(&list), [(2, None), (1, None)]);
    }

    #[test]
    fn a_new_message_moves_its_conversation_up_and_counts_once() {
        let mut list = vec![summary(1, Some(5)), summary(2, Some(3))];
        let from_peer = message(2, 6, UserId(102));
        assert!(receive(&mut list, ME, &from_peer, false));
        assert!(receive(&mut list, ME, &from_peer, false), "a repeat");
        assert_eq!(list[0].id, ConversationId(2));
        assert_eq!(list[0].unread, 1, "counted once");
        assert!(receive(&mut list, ME, &message(2, 7, ME), false));
        assert_eq!(list[0].unread, 1, "our own lines are not unread");
        assert!(receive(&mut list, ME, &message(1, 8, UserId(101)), true));
        assert_eq!(list[0].id, ConversationId(1));
        assert_eq!(list[0].unread, 0, "on screen: read");
        assert_eq!(total_unread(&list), 1);
        assert_eq!(newest_id(&list), Some(MessageId(8)));
        assert!(
            !receive(&mut list, ME, &message(9, 10, UserId(5)), false),
            "not listed"
        );
    }

    #[test]
    fn reading_in_another_tab_clears_only_what_it_covers() {
        let mut list = vec![summary(1, Some(5))];
        list[0].unread = 2;
        let read = |up_to| ReadUpdate {
            conversation_id: ConversationId(1),
            user_id: Some(ME),
            author: None,
            last_read_id: MessageId(up_to),
            read_at: None,
        };
        read_elsewhere(&mut list, &read(4));
        assert_eq!(list[0].unread, 2);
        read_elsewhere(&mut list, &read(5));
        assert_eq!(list[0].unread, 0);
    }

    #[test]
    fn a_later_page_adds_below_and_a_listed_conversation_is_not_doubled() {
        let mut list = vec![summary(1, Some(30)), summary(2, Some(20))];
        add_page(&mut list, vec![summary(2, Some(20)), summary(3, Some(10))]);
        let ids: Vec<i64> = list.iter().map(|c| c.id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        // A newer view of a listed conversation moves it where it belongs.
        add_page(&mut list, vec![summary(3, Some(40))]);
        let ids: Vec<i64> = list.iter().map(|c| c.id.0).collect();
        assert_eq!(ids, [3, 1, 2]);
    }

    #[test]
    fn marked_unread_counts_once_until_read_again() {
        let mut list = vec![summary(1, Some(5)), summary(2, Some(6))];
        list[1].unread = 3;
        marked_unread(&mut list, ConversationId(1));
        marked_unread(&mut list, ConversationId(2));
        assert_eq!(
            (list[0].unread, list[1].unread),
            (1, 3),
            "at least one, never fewer"
        );
        clear_unread(&mut list, ConversationId(1));
        assert_eq!(total_unread(&list), 3);
    }
}
