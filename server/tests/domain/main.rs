//! The chat domain in-process: [`Chat`] on a throwaway database (SQLite, or PostgreSQL in
//! `make test`'s second pass), the one-node coordinator, and a publisher that records what
//! it is handed. Each test asserts exactly which events are published to which audience,
//! and that nothing else was: publishing happens inside the domain call, so "nothing else"
//! is an empty queue when the call returns, not a wait.
//!
//! Grace periods run on paused time. The clock is paused only around the moments that
//! depend on it: a paused clock jumps ahead whenever the runtime idles, and a query waits
//! on another thread or socket, which would fire the database pool's own timers.

use std::sync::Arc;
use std::time::Duration;

use app::error::ErrorCode;
use app::protocol::{
    AvailabilityForm, ClientId, ConversationId, Message, PresenceUpdate, Role, UserId,
};
use async_trait::async_trait;
use server::care::{Care, ServiceTimeZone};
use server::chat::{Audience, Chat, ChatEvent, Connection, Publisher, Reader, SendRequest};
use server::coordination::{Coordinator, OneNode, SendRate, Settings};
use server::store::{test_db, users, Db};
use tokio::sync::mpsc;

const GRACE: Duration = Duration::from_secs(5);

/// Records every published event, in order.
struct Recorder(mpsc::UnboundedSender<ChatEvent>);

#[async_trait]
impl Publisher for Recorder {
    async fn publish(&self, event: ChatEvent) {
        let _ = self.0.send(event);
    }
}

/// `Chat` on a fresh database, with what it published.
struct Domain {
    chat: Arc<Chat>,
    /// The coordinator `chat` counts through (what it decided, without waiting for the
    /// database work that follows a decision).
    coordinator: Arc<OneNode>,
    db: Db,
    published: mpsc::UnboundedReceiver<ChatEvent>,
    _dir: Option<tempfile::TempDir>,
}

impl Domain {
    async fn start() -> Self {
        Self::start_with(Settings {
            grace: GRACE,
            ..Settings::default()
        })
        .await
    }

    async fn start_with(settings: Settings) -> Self {
        let (db, dir) = test_db::fresh().await;
        let (tx, published) = mpsc::unbounded_channel();
        let crisis = server::care::crisis_resources(None).expect("the default resources");
        let zone = ServiceTimeZone::new(Some("UTC")).expect("UTC");
        let care = Arc::new(Care::new(db.clone(), zone, crisis));
        let coordinator = Arc::new(OneNode::new(settings));
        let chat = Chat::new(
            db.clone(),
            Arc::new(Recorder(tx)),
            coordinator.clone(),
            care,
        )
        .expect("the message writer starts");
        // Many databases share two cores here: a commit may take a while, which is not what
        // these tests are about (the `busy` rule has its own tests).
        chat.admission()
            .set_limit(std::time::Duration::from_secs(5));
        Self {
            chat: Arc::new(chat),
            coordinator,
            db,
            published,
            _dir: dir,
        }
    }

    async fn user(&self, username: &str, role: Role) -> UserId {
        users::insert(
            &self.db,
            &users::NewUser {
                username,
                display_name: username,
                role,
                bio: "",
                password_hash: "not a hash: nobody signs in here",
                recovery_hash: None,
            },
        )
        .await
        .expect("a new account")
    }

    /// A student and a psychiatrist with a conversation; what opening it published is
    /// taken.
    async fn pair(&mut self) -> (UserId, UserId, ConversationId) {
        let student = self.user("stu", Role::Student).await;
        let doctor = self.user("dr.pair", Role::Psychiatrist).await;
        let (conversation, _) = self
            .chat
            .open(student, Role::Student, doctor)
            .await
            .expect("opened");
        self.taken();
        (student, doctor, conversation)
    }

    async fn send(
        &self,
        sender: UserId,
        conversation: ConversationId,
        body: &str,
    ) -> Result<Message, ErrorCode> {
        self.send_as(
            sender,
            conversation,
            &uuid::Uuid::new_v4().to_string(),
            body,
        )
        .await
    }

    async fn send_as(
        &self,
        sender: UserId,
        conversation: ConversationId,
        client_id: &str,
        body: &str,
    ) -> Result<Message, ErrorCode> {
        let request = SendRequest {
            conversation_id: conversation,
            client_id: ClientId(client_id.to_owned()),
            body: body.to_owned(),
        };
        let admitted = self.chat.admit().map_err(|e| e.code())?;
        self.chat
            .send(admitted, sender, request)
            .await
            .map_err(|e| e.code())
    }

    /// Everything published so far, emptying the record.
    fn taken(&mut self) -> Vec<ChatEvent> {
        std::iter::from_fn(|| self.published.try_recv().ok()).collect()
    }

    /// The next event, which must come (published later, by a timer's task).
    async fn next(&mut self) -> ChatEvent {
        tokio::time::timeout(Duration::from_secs(10), self.published.recv())
            .await
            .expect("an event within 10 s")
            .expect("the publisher lives")
    }
}

/// Moves a paused clock `by` (every timer due meanwhile fires), and lets it run on.
async fn pass(by: Duration) {
    tokio::time::pause();
    tokio::time::sleep(by).await;
    tokio::time::resume();
}

fn users_of(audience: &Audience) -> Vec<UserId> {
    match audience {
        Audience::Users(users) => {
            let mut users = users.to_vec();
            users.sort_unstable();
            users
        }
        Audience::Students => panic!("to every student: {audience:?}"),
    }
}

fn stored(events: &[ChatEvent]) -> Vec<(&Message, Vec<UserId>)> {
    events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::MessageStored { message, to } => Some((message, users_of(to))),
            _ => None,
        })
        .collect()
}

/// Who each reminder ([`ChatEvent::Unread`]) is for, and whether out of hours.
fn reminded(events: &[ChatEvent]) -> Vec<(UserId, bool)> {
    events
        .iter()
        .filter_map(|event| match event {
            ChatEvent::Unread(unread) => Some(unread),
            _ => None,
        })
        .flat_map(|unread| unread.readers.iter().map(|r| (r.user, r.after_hours)))
        .collect()
}

fn presence(event: &ChatEvent) -> (&PresenceUpdate, &Audience) {
    match event {
        ChatEvent::Presence { update, to } => (update, to),
        other => panic!("not a presence event: {other:?}"),
    }
}

#[tokio::test]
async fn a_message_is_published_once_to_both_members_and_a_retry_publishes_nothing() {
    let mut domain = Domain::start().await;
    let (student, doctor, conversation) = domain.pair().await;
    let outsider = domain.user("outsider", Role::Student).await;
    let client_id = uuid::Uuid::new_v4().to_string();

    let message = domain
        .send_as(student, conversation, &client_id, "hello")
        .await
        .expect("stored");
    let events = domain.taken();
    let mut both = vec![student, doctor];
    both.sort_unstable();
    assert_eq!(stored(&events), [(&message, both)], "{events:?}");
    // …and who may need reminding of it (Web Push decides whether): the other member.
    match &events[1..] {
        [ChatEvent::Unread(unread)] => {
            assert_eq!((unread.message_id, unread.sender), (message.id, student));
            assert_eq!(
                unread.readers,
                [Reader {
                    user: doctor,
                    after_hours: false
                }]
            );
            assert_eq!(unread.group, None);
        }
        other => panic!("nothing else: {other:?}"),
    }

    // The retry of a lost ack answers the stored message and tells nobody again.
    let again = domain
        .send_as(student, conversation, &client_id, "hello")
        .await;
    assert_eq!(again, Ok(message));
    assert!(domain.taken().is_empty());

    // Not a member: refused like an unknown conversation, and nobody hears of it.
    let refused = domain.send(outsider, conversation, "let me in").await;
    assert_eq!(refused, Err(ErrorCode::ConversationNotFound));
    let refused = domain.send(student, conversation, "bad\u{0}").await;
    assert_eq!(refused, Err(ErrorCode::InvalidBody));
    assert!(domain.taken().is_empty());
}

#[tokio::test]
async fn typing_goes_to_the_other_member_only_and_a_flood_is_refused() {
    let mut domain = Domain::start().await;
    let (student, doctor, conversation) = domain.pair().await;
    domain
        .chat
        .typing(student, conversation, true)
        .await
        .expect("relayed");
    match &domain.taken()[..] {
        [ChatEvent::Typing { update, to }] => {
            assert_eq!(users_of(to), [doctor], "never back to the typist");
            assert_eq!((update.user_id, update.typing), (Some(student), true));
        }
        other => panic!("{other:?}"),
    }
    // Six at once (the typing burst) in all, then refused.
    let mut answers = Vec::new();
    for _ in 0..6 {
        let answer = domain.chat.typing(student, conversation, true).await;
        answers.push(answer.map_err(|e| e.code()));
    }
    assert_eq!(answers[..5], [Ok(()); 5]);
    assert_eq!(answers[5], Err(ErrorCode::RateLimited));
    assert_eq!(domain.taken().len(), 5, "a refused signal is not relayed");
}

#[tokio::test]
async fn the_send_limit_refills_with_time() {
    let mut domain = Domain::start_with(Settings {
        send: SendRate {
            per_second: 1.0,
            burst: 2.0,
        },
        ..Settings::default()
    })
    .await;
    let (student, _, conversation) = domain.pair().await;
    assert!(domain.send(student, conversation, "one").await.is_ok());
    assert!(domain.send(student, conversation, "two").await.is_ok());
    let third = domain.send(student, conversation, "three").await;
    assert_eq!(third, Err(ErrorCode::RateLimited));
    assert_eq!(
        stored(&domain.taken()).len(),
        2,
        "the refused message went nowhere"
    );
    pass(Duration::from_secs(1)).await;
    assert!(domain.send(student, conversation, "three").await.is_ok());
}

#[tokio::test]
async fn a_read_marker_goes_to_the_members_but_not_the_connection_that_read() {
    let mut domain = Domain::start().await;
    let (student, doctor, conversation) = domain.pair().await;
    let message = domain.send(student, conversation, "hi").await.unwrap();
    domain.taken();
    let tab = Connection("the doctor's tab".into());
    let marker = domain
        .chat
        .mark_read(doctor, conversation, message.id, Some(tab.clone()))
        .await
        .expect("stored");
    assert_eq!(marker, message.id);
    match &domain.taken()[..] {
        [ChatEvent::Read { update, to, except }] => {
            assert_eq!(
                users_of(to).len(),
                2,
                "both members (the reader's other tabs)"
            );
            assert_eq!(except.as_ref(), Some(&tab));
            assert_eq!(update.last_read_id, message.id);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_students_presence_reaches_only_the_psychiatrists_they_wrote_to() {
    let mut domain = Domain::start().await;
    let (student, doctor, _) = domain.pair().await;
    let stranger = domain.user("dr.stranger", Role::Psychiatrist).await;

    domain.chat.connected(student, Role::Student).await;
    let events = domain.taken();
    let (update, to) = presence(&events[0]);
    assert!(update.online && update.user_id == student);
    assert_eq!(users_of(to), [doctor], "not {stranger}: no conversation");
    assert_eq!(events.len(), 1);

    // A second tab opening and closing changes nothing.
    domain.chat.connected(student, Role::Student).await;
    domain.chat.disconnected(student, Role::Student);
    assert!(domain.taken().is_empty());

    // A reload: the last connection closes and another opens within the grace period;
    // then that one closes too. The first closing's timer, running out meanwhile, decides
    // nothing: the user is offline a whole grace period after the second. On a paused
    // clock, `sleep` moves time to its end and runs every timer due before it; connecting
    // and disconnecting touch memory only. Timers tick in whole milliseconds, so each check
    // keeps a tick's margin from the deadlines around it.
    let ms = Duration::from_millis;
    let watched = [student];
    let online = || domain.coordinator.online_among(&watched);
    tokio::time::pause();
    domain.chat.disconnected(student, Role::Student);
    tokio::time::sleep(GRACE - ms(1)).await;
    domain.chat.connected(student, Role::Student).await;
    domain.chat.disconnected(student, Role::Student);
    tokio::time::sleep(ms(2)).await;
    assert_eq!(online().await, [true], "the reload's timer decides nothing");
    tokio::time::sleep(GRACE - ms(4)).await;
    assert_eq!(
        online().await,
        [true],
        "still within the second grace period"
    );
    tokio::time::sleep(ms(4)).await;
    assert_eq!(
        online().await,
        [false],
        "a whole grace period after the last closed"
    );
    // Storing `last_seen` is a query: real time from here.
    tokio::time::resume();
    let event = domain.next().await;
    let (update, to) = presence(&event);
    assert!(!update.online && update.last_seen.is_some());
    assert_eq!(users_of(to), [doctor]);
    let seen = users::last_seen(&domain.db, student).await.unwrap();
    assert_eq!(seen, update.last_seen, "stored as told");
}

#[tokio::test]
async fn a_psychiatrists_presence_reaches_every_student_and_both_learn_of_a_new_conversation() {
    let mut domain = Domain::start().await;
    let doctor = domain.user("dr.open", Role::Psychiatrist).await;
    let student = domain.user("new.student", Role::Student).await;
    domain.chat.connected(doctor, Role::Psychiatrist).await;
    let events = domain.taken();
    let (update, to) = presence(&events[0]);
    assert!(update.online);
    assert_eq!(to, &Audience::Students);

    // Opening a conversation makes each visible to the other: both are told at once.
    domain
        .chat
        .open(student, Role::Student, doctor)
        .await
        .expect("opened");
    let told: Vec<_> = domain
        .taken()
        .iter()
        .map(|event| {
            let (update, to) = presence(event);
            (update.user_id, update.online, users_of(to))
        })
        .collect();
    assert_eq!(
        told,
        [
            (student, false, vec![doctor]),
            (doctor, true, vec![student])
        ]
    );
}

/// Away until far in the future: every message is after hours.
fn away() -> AvailabilityForm {
    AvailabilityForm {
        // No office hours on any of the seven days.
        days: vec![(String::new(), String::new()); 7],
        back_on: "2099-12-02".into(),
        away_note: String::new(),
        accepting_new: true,
    }
}

#[tokio::test]
async fn a_student_writing_after_hours_gets_one_notice_per_absence() {
    let mut domain = Domain::start().await;
    let (student, doctor, conversation) = domain.pair().await;

    // No office hours and no leave: nothing was promised, no notice.
    domain.send(student, conversation, "hello").await.unwrap();
    let events = domain.taken();
    assert_eq!(stored(&events).len(), 1);
    assert_eq!(
        reminded(&events),
        [(doctor, false)],
        "in hours: an ordinary reminder"
    );

    domain
        .chat
        .save_availability(doctor, Role::Psychiatrist, &away())
        .await
        .expect("saved");
    let sent = domain
        .send(student, conversation, "still there?")
        .await
        .unwrap();
    let events = domain.taken();
    let messages = stored(&events);
    assert_eq!(messages.len(), 2, "the message, then Haven's notice");
    let (notice, to) = &messages[1];
    assert_eq!(notice.sender_id, None, "nobody's words");
    assert!(notice.id > sent.id);
    assert_eq!(to.len(), 2, "to both members");
    assert!(notice.body.contains("away, back on"), "{}", notice.body);
    // The reminder of the student's message says the psychiatrist is away now (only their
    // devices that chose after-hours reminders get it); Haven's notice reminds nobody.
    assert_eq!(reminded(&events), [(doctor, true)]);

    // Not again during the same absence, and not for the psychiatrist's own messages.
    domain.send(student, conversation, "again").await.unwrap();
    domain.send(doctor, conversation, "I'm here").await.unwrap();
    assert_eq!(stored(&domain.taken()).len(), 2, "the two messages only");
}

#[tokio::test]
async fn a_psychiatrist_only_finds_conversations_students_started() {
    let domain = Domain::start().await;
    let student = domain.user("quiet", Role::Student).await;
    let doctor = domain.user("dr.reach", Role::Psychiatrist).await;
    let refused = domain.chat.open(doctor, Role::Psychiatrist, student).await;
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.code()),
        Err(ErrorCode::ConversationNotFound)
    );
    let other_student = domain.user("peer", Role::Student).await;
    let refused = domain
        .chat
        .open(student, Role::Student, other_student)
        .await;
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.code()),
        Err(ErrorCode::UserNotFound)
    );
}

/// Support groups: every rule of issue 27, in-process.
mod groups;
