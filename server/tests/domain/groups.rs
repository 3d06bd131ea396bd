//! Groups led by a psychiatrist: consent, aliases, who sees what of whom, moderation, and
//! every refusal (each stores nothing and tells nobody).

use app::error::ErrorCode;
use app::protocol::groups::{CreateGroup, MemberChange};
use app::protocol::{ConversationId, Group, MessageId, MessageKind, Role, UserId};
use server::chat::ChatEvent;
use server::store::{groups as group_store, messages};

use super::{stored, users_of, Domain};

/// A psychiatrist leading a group, and three of their students (each with a one-to-one
/// conversation with them), none in the group yet.
struct Setup {
    leader: UserId,
    students: [UserId; 3],
    group: ConversationId,
}

impl Domain {
    async fn group_setup(&mut self) -> Setup {
        let leader = self.user("dr.lead", Role::Psychiatrist).await;
        let mut students = [UserId(0); 3];
        for (i, name) in ["sam", "kim", "ali"].into_iter().enumerate() {
            let student = self.user(name, Role::Student).await;
            self.chat
                .open(student, Role::Student, leader)
                .await
                .expect("a conversation with the leader");
            students[i] = student;
        }
        let group = self
            .chat
            .create_group(leader, Role::Psychiatrist, request("Exam stress"))
            .await
            .expect("created");
        self.taken();
        Setup {
            leader,
            students,
            group: group.id,
        }
    }

    /// Invites and accepts, taking what was published.
    async fn join(&mut self, setup: &Setup, student: UserId, alias: Option<&str>) -> Group {
        self.chat
            .invite(setup.leader, setup.group, student)
            .await
            .expect("invited");
        let group = self
            .chat
            .answer_invitation(student, setup.group, true, alias.map(str::to_owned))
            .await
            .expect("joined")
            .expect("the group");
        self.taken();
        group
    }

    async fn standing(&self, setup: &Setup, user: UserId) -> Option<group_store::Standing> {
        group_store::person(&self.db, setup.group, user)
            .await
            .unwrap()
            .map(|p| p.standing)
    }
}

/// How many message removals the access record holds for `group`.
async fn moderations(domain: &Domain, group: ConversationId) -> usize {
    let filter = server::store::access::AuditFilter {
        conversation: Some(group),
        user: None,
        since: None,
    };
    server::store::access::audit(&domain.db, &filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| row.kind == app::protocol::AccessKind::Moderation)
        .count()
}

fn request(name: &str) -> CreateGroup {
    CreateGroup {
        name: name.to_owned(),
        description: "A weekly space to talk about exams.".to_owned(),
        member_limit: None,
    }
}

#[tokio::test]
async fn an_invitation_needs_a_yes_and_joining_is_announced_to_the_members() {
    let mut domain = Domain::start().await;
    let setup = domain.group_setup().await;
    let [sam, kim, _] = setup.students;

    domain
        .chat
        .invite(setup.leader, setup.group, sam)
        .await
        .expect("invited");
    match &domain.taken()[..] {
        [ChatEvent::GroupInvited { group, to }] => {
            assert_eq!(users_of(to), [sam], "only the invited student hears of it");
            assert_eq!(group.name, "Exam stress");
            assert_eq!(group.leader.name, "dr.lead");
            assert_eq!(group.students, 0);
        }
        other => panic!("{other:?}"),
    }
    // Invited is not a member: nothing of the group reaches them, nothing can be sent.
    assert_eq!(
        domain.send(sam, setup.group, "hi").await,
        Err(ErrorCode::ConversationNotFound)
    );

    let joined = domain
        .chat
        .answer_invitation(sam, setup.group, true, Some("Quiet Fox".into()))
        .await
        .expect("joined")
        .expect("the group");
    assert_eq!(joined.students, 1);
    let events = domain.taken();
    let lines = stored(&events);
    assert_eq!(
        lines.len(),
        2,
        "the quiet line, to the leader and to the students: {events:?}"
    );
    for (line, to) in &lines {
        assert_eq!(line.kind, MessageKind::MemberJoined);
        assert_eq!(line.author.as_ref().unwrap().name, "Quiet Fox");
        if *to == [setup.leader] {
            let author = line.author.as_ref().unwrap();
            assert_eq!(author.user_id, Some(sam), "the leader sees who");
            assert_eq!(author.display_name.as_deref(), Some("sam"));
        } else {
            assert_eq!(*to, [sam]);
            let author = line.author.as_ref().unwrap();
            assert_eq!(
                (author.user_id, author.display_name.as_deref()),
                (None, None)
            );
            assert_eq!(author.handle, joined.me);
        }
    }
    let members: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::GroupMember { update, .. } => Some(update),
            _ => None,
        })
        .collect();
    assert_eq!(members.len(), 2);
    assert!(members
        .iter()
        .all(|u| u.change == MemberChange::Joined && u.students == 1));

    // Declining: not a member, and the invitation is gone.
    domain
        .chat
        .invite(setup.leader, setup.group, kim)
        .await
        .unwrap();
    domain.taken();
    let declined = domain
        .chat
        .answer_invitation(kim, setup.group, false, None)
        .await
        .unwrap();
    assert_eq!(declined, None);
    assert!(domain.taken().is_empty());
    assert_eq!(
        domain.standing(&setup, kim).await,
        Some(group_store::Standing::Declined)
    );
    assert!(domain.chat.invitations(kim).await.unwrap().is_empty());
}

#[tokio::test]
async fn students_see_each_other_only_by_handle_and_chosen_name() {
    let mut domain = Domain::start().await;
    let setup = domain.group_setup().await;
    let [sam, kim, _] = setup.students;
    let sam_group = domain.join(&setup, sam, Some("Quiet Fox")).await;
    domain.join(&setup, kim, None).await;

    let sent = domain.send(sam, setup.group, "hello all").await.unwrap();
    assert_eq!(
        sent.sender_id, None,
        "a student's own copy carries their handle"
    );
    assert_eq!(sent.author.as_ref().unwrap().handle, sam_group.me);
    let events = domain.taken();
    let copies = stored(&events);
    assert_eq!(copies.len(), 2, "{events:?}");
    for (message, to) in copies {
        let author = message.author.as_ref().unwrap();
        assert_eq!(author.name, "Quiet Fox");
        if to == [setup.leader] {
            assert_eq!(message.sender_id, Some(sam));
            assert_eq!(author.display_name.as_deref(), Some("sam"));
        } else {
            let mut students = vec![sam, kim];
            students.sort_unstable();
            assert_eq!(
                to, students,
                "both students, the sender's other tabs included"
            );
            assert_eq!(message.sender_id, None, "no student id to a student");
            assert_eq!(author.user_id, None);
            assert_eq!(author.display_name, None, "no name behind the alias");
        }
    }

    // The same student in a second group has another handle.
    let other = domain
        .chat
        .create_group(setup.leader, Role::Psychiatrist, request("Grief"))
        .await
        .unwrap();
    domain
        .chat
        .invite(setup.leader, other.id, sam)
        .await
        .unwrap();
    let second = domain
        .chat
        .answer_invitation(sam, other.id, true, None)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(second.me, sam_group.me);

    // Typing and reading: to the others, by handle.
    domain.taken();
    domain.chat.typing(kim, setup.group, true).await.unwrap();
    for event in domain.taken() {
        let ChatEvent::Typing { update, to } = event else {
            panic!("{event:?}")
        };
        assert!(!users_of(&to).contains(&kim), "never to the typist");
        let author = update.author.expect("who, by handle");
        assert_eq!(author.name, "kim");
        assert_eq!(update.user_id.is_some(), users_of(&to) == [setup.leader]);
    }
    domain
        .chat
        .mark_read(kim, setup.group, sent.id, None)
        .await
        .unwrap();
    for event in domain.taken() {
        let ChatEvent::Read { update, to, .. } = event else {
            panic!("{event:?}")
        };
        assert_eq!(update.last_read_id, sent.id);
        assert_eq!(update.user_id.is_some(), users_of(&to) == [setup.leader]);
        assert!(update.author.is_some());
    }

    // The page: the members with their read markers ("Seen by N"), handles only.
    let page = domain
        .chat
        .conversation(sam, setup.group, None, None)
        .await
        .unwrap();
    let view = page.group.expect("a group's page");
    assert_eq!(view.members.len(), 3);
    let kim_seen = view
        .members
        .iter()
        .find(|m| m.author.name == "kim")
        .unwrap();
    assert_eq!(kim_seen.last_read_id, sent.id);
    assert!(view
        .members
        .iter()
        .filter(|m| m.author.role == Role::Student)
        .all(|m| m.author.user_id.is_none()));
}

#[tokio::test]
async fn a_member_sees_history_from_joining_and_nothing_after_leaving() {
    let mut domain = Domain::start().await;
    let setup = domain.group_setup().await;
    let [sam, kim, _] = setup.students;
    domain.join(&setup, sam, None).await;
    let before = domain.send(sam, setup.group, "before kim").await.unwrap();
    domain.join(&setup, kim, None).await;
    let after = domain.send(sam, setup.group, "after kim").await.unwrap();

    let page = domain
        .chat
        .conversation(kim, setup.group, None, None)
        .await
        .unwrap();
    let ids: Vec<MessageId> = page.messages.iter().map(|m| m.id).collect();
    assert!(!ids.contains(&before.id), "never before joining");
    assert!(ids.contains(&after.id));
    let server::chat::Replay::Messages(replayed) =
        domain.chat.replay(kim, MessageId(0)).await.unwrap()
    else {
        panic!("a short catch-up")
    };
    assert!(replayed.iter().all(|m| m.id != before.id));
    assert!(replayed.iter().any(|m| m.id == after.id));

    domain.taken();
    domain.chat.leave_group(kim, setup.group).await.unwrap();
    let events = domain.taken();
    assert!(events.iter().any(|e| matches!(e,
        ChatEvent::GroupRemoved { to, .. } if users_of(to) == [kim])));
    for (_, to) in stored(&events) {
        assert!(!to.contains(&kim), "the leaver hears nothing more");
    }
    for refused in [
        domain.send(kim, setup.group, "still here?").await.err(),
        domain
            .chat
            .conversation(kim, setup.group, None, None)
            .await
            .err()
            .map(|e| e.code()),
        domain
            .chat
            .typing(kim, setup.group, true)
            .await
            .err()
            .map(|e| e.code()),
        domain
            .chat
            .leave_group(kim, setup.group)
            .await
            .err()
            .map(|e| e.code()),
    ] {
        assert_eq!(refused, Some(ErrorCode::ConversationNotFound));
    }
    domain.send(sam, setup.group, "bye kim").await.unwrap();
    for (_, to) in stored(&domain.taken()) {
        assert!(!to.contains(&kim));
    }
}

#[tokio::test]
async fn the_leader_removes_a_member_and_a_message_and_closes_the_group() {
    let mut domain = Domain::start().await;
    let setup = domain.group_setup().await;
    let [sam, kim, _] = setup.students;
    domain.join(&setup, sam, None).await;
    domain.join(&setup, kim, None).await;
    let unkind = domain
        .send(kim, setup.group, "something unkind")
        .await
        .unwrap();
    domain.taken();

    // Only the leader moderates.
    for refused in [
        domain.chat.remove_member(sam, setup.group, kim).await,
        domain
            .chat
            .remove_message(sam, setup.group, unkind.id, None)
            .await,
        domain.chat.close_group(sam, setup.group).await,
        domain.chat.invite(sam, setup.group, kim).await,
    ] {
        assert_eq!(refused.map_err(|e| e.code()), Err(ErrorCode::NotLeader));
    }
    assert!(domain.taken().is_empty());

    // Not a member's message of this group: refused, and nothing recorded.
    let refused = domain
        .chat
        .remove_message(setup.leader, setup.group, MessageId(999_999), None)
        .await;
    assert_eq!(
        refused.map_err(|e| e.code()),
        Err(ErrorCode::UnknownMessage)
    );
    assert_eq!(moderations(&domain, setup.group).await, 0);

    domain
        .chat
        .remove_message(setup.leader, setup.group, unkind.id, None)
        .await
        .unwrap();
    assert_eq!(
        moderations(&domain, setup.group).await,
        1,
        "the access record notes it"
    );
    match &domain.taken()[..] {
        [ChatEvent::MessageRemoved { update, to }] => {
            assert_eq!(update.message_id, unkind.id);
            assert_eq!(users_of(to).len(), 3, "every member");
        }
        other => panic!("{other:?}"),
    }
    let rows = messages::page(&domain.db, setup.group, None, MessageId(0), 50)
        .await
        .unwrap();
    let row = rows.iter().find(|r| r.id == unkind.id).unwrap();
    assert_eq!(row.body, "", "the body is deleted from storage");
    let page = domain
        .chat
        .conversation(sam, setup.group, None, None)
        .await
        .unwrap();
    let shown = page.messages.iter().find(|m| m.id == unkind.id).unwrap();
    assert_eq!(
        (shown.kind, shown.body.as_str()),
        (MessageKind::Removed, "")
    );

    domain
        .chat
        .remove_member(setup.leader, setup.group, kim)
        .await
        .unwrap();
    let events = domain.taken();
    assert!(events.iter().any(|e| matches!(e,
        ChatEvent::GroupRemoved { to, .. } if users_of(to) == [kim])));
    let removed_lines: Vec<_> = stored(&events)
        .into_iter()
        .filter(|(m, _)| m.kind == MessageKind::MemberRemoved)
        .collect();
    assert_eq!(removed_lines.len(), 2);
    assert!(removed_lines.iter().all(|(_, to)| !to.contains(&kim)));
    assert_eq!(
        domain.send(kim, setup.group, "hello?").await,
        Err(ErrorCode::ConversationNotFound)
    );

    domain
        .chat
        .close_group(setup.leader, setup.group)
        .await
        .unwrap();
    let events = domain.taken();
    assert!(events
        .iter()
        .any(|e| matches!(e, ChatEvent::GroupClosed { .. })));
    assert!(stored(&events)
        .iter()
        .any(|(m, _)| m.kind == MessageKind::GroupClosed));
    for sender in [sam, setup.leader] {
        assert_eq!(
            domain.send(sender, setup.group, "anyone?").await,
            Err(ErrorCode::GroupClosed)
        );
    }
    // Still readable.
    assert!(domain
        .chat
        .conversation(sam, setup.group, None, None)
        .await
        .is_ok());
}

#[tokio::test]
async fn bad_invitations_and_aliases_are_refused_and_store_nothing() {
    let mut domain = Domain::start().await;
    let setup = domain.group_setup().await;
    let [sam, kim, ali] = setup.students;
    let stranger = domain.user("stranger", Role::Student).await;
    let other_doctor = domain.user("dr.other", Role::Psychiatrist).await;

    // Not the leader's student (a stranger, a psychiatrist, nobody at all).
    for who in [stranger, other_doctor, UserId(999_999)] {
        let refused = domain.chat.invite(setup.leader, setup.group, who).await;
        assert_eq!(
            refused.map_err(|e| e.code()),
            Err(ErrorCode::NotYourStudent)
        );
        assert_eq!(domain.standing(&setup, who).await, None);
    }
    // A student creating a group.
    let refused = domain
        .chat
        .create_group(sam, Role::Student, request("Mine"))
        .await;
    assert_eq!(refused.map_err(|e| e.code()), Err(ErrorCode::Forbidden));
    // Bad groups.
    for bad in [
        CreateGroup {
            name: " ".into(),
            ..request("")
        },
        CreateGroup {
            name: "<b>x</b>".into(),
            ..request("")
        },
        CreateGroup {
            member_limit: Some(31),
            ..request("Big")
        },
        CreateGroup {
            member_limit: Some(1),
            ..request("Small")
        },
        CreateGroup {
            description: "a\u{0}b".into(),
            ..request("Nul")
        },
    ] {
        let refused = domain
            .chat
            .create_group(setup.leader, Role::Psychiatrist, bad)
            .await;
        assert_eq!(refused.map_err(|e| e.code()), Err(ErrorCode::InvalidGroup));
    }

    // Twice.
    domain
        .chat
        .invite(setup.leader, setup.group, sam)
        .await
        .unwrap();
    let twice = domain.chat.invite(setup.leader, setup.group, sam).await;
    assert_eq!(twice.map_err(|e| e.code()), Err(ErrorCode::AlreadyInvited));

    // Aliases: empty, too long, markup, invisible; then taken (case-insensitively, and
    // another member's display name counts).
    for bad in [
        "",
        "   ",
        &"x".repeat(33),
        "<script>",
        "a\u{200B}b",
        "bell\u{7}",
    ] {
        let refused = domain
            .chat
            .answer_invitation(sam, setup.group, true, Some(bad.to_owned()))
            .await;
        assert_eq!(
            refused.map_err(|e| e.code()),
            Err(ErrorCode::InvalidAlias),
            "{bad:?}"
        );
    }
    assert_eq!(
        domain.standing(&setup, sam).await,
        Some(group_store::Standing::Invited),
        "still only invited"
    );
    domain.taken();
    domain
        .chat
        .answer_invitation(sam, setup.group, true, Some("Fox".into()))
        .await
        .unwrap();
    domain
        .chat
        .invite(setup.leader, setup.group, kim)
        .await
        .unwrap();
    for taken in ["fox", "DR.LEAD"] {
        let refused = domain
            .chat
            .answer_invitation(kim, setup.group, true, Some(taken.to_owned()))
            .await;
        assert_eq!(
            refused.map_err(|e| e.code()),
            Err(ErrorCode::AliasTaken),
            "{taken}"
        );
    }
    // Answering without an invitation.
    let refused = domain
        .chat
        .answer_invitation(stranger, setup.group, true, None)
        .await;
    assert_eq!(
        refused.map_err(|e| e.code()),
        Err(ErrorCode::ConversationNotFound)
    );

    // Full: a group for 2 has room for sam and one open invitation.
    let small = domain
        .chat
        .create_group(
            setup.leader,
            Role::Psychiatrist,
            CreateGroup {
                member_limit: Some(2),
                ..request("Small")
            },
        )
        .await
        .unwrap();
    domain
        .chat
        .invite(setup.leader, small.id, sam)
        .await
        .unwrap();
    domain
        .chat
        .invite(setup.leader, small.id, kim)
        .await
        .unwrap();
    let full = domain.chat.invite(setup.leader, small.id, ali).await;
    assert_eq!(full.map_err(|e| e.code()), Err(ErrorCode::GroupFull));

    // Closed.
    domain
        .chat
        .close_group(setup.leader, small.id)
        .await
        .unwrap();
    let closed = domain.chat.invite(setup.leader, small.id, ali).await;
    assert_eq!(closed.map_err(|e| e.code()), Err(ErrorCode::GroupClosed));
    let closed = domain
        .chat
        .answer_invitation(kim, small.id, true, None)
        .await;
    assert_eq!(closed.map_err(|e| e.code()), Err(ErrorCode::GroupClosed));

    // A leader does not leave; they close.
    let refused = domain.chat.leave_group(setup.leader, setup.group).await;
    assert_eq!(refused.map_err(|e| e.code()), Err(ErrorCode::Forbidden));
}

#[tokio::test]
async fn the_sidebar_export_and_deletion_include_groups() {
    let mut domain = Domain::start().await;
    let setup = domain.group_setup().await;
    let [sam, kim, ali] = setup.students;
    domain.join(&setup, sam, Some("Fox")).await;
    domain.join(&setup, kim, None).await;
    domain
        .chat
        .invite(setup.leader, setup.group, ali)
        .await
        .unwrap();
    domain.send(kim, setup.group, "from kim").await.unwrap();
    domain.send(sam, setup.group, "from fox").await.unwrap();

    let list = domain
        .chat
        .conversations(kim, Role::Student, false, None)
        .await
        .unwrap();
    let summary = list
        .conversations
        .iter()
        .find(|c| c.id == setup.group)
        .expect("the group in the sidebar");
    let group = summary.group.as_ref().expect("marked as a group");
    assert_eq!(group.students, 2);
    let last = summary.last_message.as_ref().unwrap();
    assert_eq!(
        last.sender_id, None,
        "another student's id never reaches kim"
    );
    assert_eq!(last.author.as_ref().unwrap().name, "Fox");
    assert_eq!(summary.unread, 1);
    let invited = domain
        .chat
        .conversations(ali, Role::Student, false, None)
        .await
        .unwrap();
    assert_eq!(
        invited.invitations.len(),
        1,
        "the invitation in the sidebar"
    );

    let export = domain.chat.export(kim, Role::Student, None).await.unwrap();
    let exported = export
        .conversations
        .iter()
        .find(|c| c.id == setup.group)
        .expect("the group in the export");
    let json = serde_json::to_string(exported).unwrap();
    assert!(json.contains("from fox") && json.contains("\"Fox\""));
    assert!(
        !json.contains("\"sam\""),
        "no name behind the alias: {json}"
    );

    // Deleting sam's account erases their group messages and takes them out of the group.
    server::store::users::erase(&domain.db, sam, app::protocol::Timestamp::now())
        .await
        .unwrap();
    let rows = messages::page(&domain.db, setup.group, None, MessageId(0), 50)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.body != "from fox"));
    let people = group_store::people(&domain.db, setup.group).await.unwrap();
    let sam_row = people.iter().find(|p| p.user_id == sam).unwrap();
    assert_eq!(sam_row.alias, None, "the alias goes with the name");
    assert_eq!(sam_row.standing, group_store::Standing::Left);
    let group = group_store::find(&domain.db, setup.group)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(group.students, 1);

    // The retention job still runs, everything past: the account stays while a group's
    // lines name it ("Deleted account"), however empty its one-to-one conversation.
    let later = app::protocol::Timestamp::now().plus_millis(1);
    let purged = server::store::retention::purge(&domain.db, later, false)
        .await
        .expect("the purge runs");
    assert_eq!(purged.accounts, 0);
    assert!(group_store::person(&domain.db, setup.group, sam)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn a_group_changes_nobody_s_presence_and_never_awaits_a_reply() {
    let mut domain = Domain::start().await;
    let setup = domain.group_setup().await;
    let [sam, kim, _] = setup.students;
    domain.join(&setup, sam, None).await;
    domain.join(&setup, kim, None).await;

    // Kim comes online: only the leader (their psychiatrist) is told, never Sam.
    domain.chat.connected(kim, Role::Student).await;
    let events = domain.taken();
    let (update, to) = super::presence(&events[0]);
    assert!(update.online && update.user_id == kim);
    assert_eq!(
        users_of(to),
        [setup.leader],
        "students never see one another's status"
    );
    let seen_by_leader = domain
        .chat
        .presence(setup.leader, Role::Psychiatrist)
        .await
        .unwrap();
    assert!(seen_by_leader.iter().any(|p| p.user_id == kim));
    let seen_by_sam = domain.chat.presence(sam, Role::Student).await.unwrap();
    assert!(seen_by_sam.iter().all(|p| p.user_id != kim));

    // A student's question in the group does not put it in the leader's triage.
    domain
        .send(kim, setup.group, "a question for everyone")
        .await
        .unwrap();
    let triage = domain
        .chat
        .conversations(setup.leader, Role::Psychiatrist, true, None)
        .await
        .unwrap();
    let group = triage
        .conversations
        .iter()
        .find(|c| c.id == setup.group)
        .expect("listed after those awaiting");
    assert_eq!(group.awaiting_since, None);
}
