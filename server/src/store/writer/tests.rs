//! The writer's batches on the real backend (SQLite, or PostgreSQL under
//! `HAVEN_TEST_BACKEND=postgres`): whatever a batch mixes, every valid message is stored
//! exactly once and answered, and only the bad ones fail.

use app::protocol::{ClientId, ConversationId, Role, Timestamp, UserId};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::{store_postgres, store_sqlite};
use crate::chat::clean_body;
use crate::store::messages::{Inserted, NewMessage};
use crate::store::{conversations, test_db, users, Db, StoreError};

/// One message of a generated batch.
#[derive(Debug, Clone)]
enum Item {
    /// A body as a client sent it: the domain's check decides whether it reaches the writer.
    Typed { sender: usize, body: String },
    /// The previous accepted message sent again (a retry: same sender and clientId).
    Retry,
    /// A message to a conversation that no longer exists: every backend refuses it.
    Orphan,
    /// A NUL that skipped the check: PostgreSQL's `text` refuses it (SQLite stores it, so
    /// only the PostgreSQL run makes these).
    UncheckedNul { sender: usize },
}

const SENDERS: usize = 4;

/// A character from any of Unicode's 17 planes (surrogates cannot be a `char`).
fn any_plane() -> impl Strategy<Value = char> {
    (0u32..=16, 0u32..0x1_0000).prop_filter_map("not a scalar value", |(plane, offset)| {
        char::from_u32(plane << 16 | offset)
    })
}

fn body() -> impl Strategy<Value = String> {
    let control = prop_oneof![Just(0u32), 0x01u32..0x20, Just(0x7f), 0x80u32..0xa0]
        .prop_map(|c| char::from_u32(c).expect("a control character"));
    prop_oneof![
        "\\PC{1,40}",
        prop::collection::vec(any_plane(), 1..30).prop_map(String::from_iter),
        prop::collection::vec(any::<char>(), 1..30).prop_map(String::from_iter),
        ("\\PC{0,10}", control, "\\PC{0,10}").prop_map(|(a, c, b)| format!("{a}{c}{b}")),
        Just("bad\u{0}body".to_owned()),
        // The text of a JSON escape of a lone surrogate, which is ordinary characters here.
        Just(r"lone \ud800 surrogate".to_owned()),
        Just("x".repeat(4001)),
        Just("é".repeat(4000)),
        Just(" \n\t ".to_owned()),
        Just("line\r\nbreaks\rof every kind\n".to_owned()),
    ]
}

fn items(postgres: bool) -> impl Strategy<Value = Vec<Item>> {
    let typed = (0..SENDERS, body()).prop_map(|(sender, body)| Item::Typed { sender, body });
    let item = if postgres {
        prop_oneof![
            6 => typed,
            1 => Just(Item::Retry),
            1 => Just(Item::Orphan),
            1 => (0..SENDERS).prop_map(|sender| Item::UncheckedNul { sender }),
        ]
        .boxed()
    } else {
        prop_oneof![6 => typed, 1 => Just(Item::Retry), 1 => Just(Item::Orphan)].boxed()
    };
    prop::collection::vec(item, 1..24)
}

/// What the batch should do with one message.
#[derive(Debug)]
enum Expect {
    /// Stored now with this body.
    Stored(String),
    /// Answered with the message stored at position `i` of the batch.
    SameAs(usize),
    /// Refused by the database; nothing stored.
    Refused,
}

/// Students with a conversation each, with one psychiatrist.
async fn senders(db: &Db) -> Vec<(UserId, ConversationId)> {
    let user = |name: String, role| async move {
        users::insert(
            db,
            &users::NewUser {
                username: &name,
                display_name: "Synthetic",
                role,
                bio: "",
                password_hash: "x",
                recovery_hash: None,
            },
        )
        .await
        .expect("a user")
    };
    let doctor = user("dr.writer".into(), Role::Psychiatrist).await;
    let mut out = Vec::new();
    for i in 0..SENDERS {
        let student = user(format!("writer.student{i}"), Role::Student).await;
        let conversation = conversations::open_direct(db, student, doctor)
            .await
            .expect("a conversation");
        out.push((student, conversation));
    }
    out
}

/// The bodies stored under `(sender, clientId)`.
async fn stored(db: &Db, sender: UserId, client: &ClientId) -> Vec<String> {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT body FROM messages WHERE sender_id = ?1 AND client_id = ?2")
                .bind(sender.0)
                .bind(&client.0)
                .fetch_all(pool)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT body FROM messages WHERE sender_id = $1 AND client_id = $2::uuid",
            )
            .bind(sender.0)
            .bind(&client.0)
            .fetch_all(pool)
            .await
        }
    }
    .expect("read back")
}

fn client_id() -> ClientId {
    ClientId(uuid::Uuid::new_v4().to_string())
}

/// Why the check refused `raw`, as an independent reading of docs/protocol.md.
fn justified(code: app::error::ErrorCode, raw: &str) -> bool {
    use app::error::ErrorCode;
    match code {
        ErrorCode::EmptyBody => raw.trim().is_empty(),
        ErrorCode::BodyTooLong => raw.trim().chars().count() > app::protocol::MAX_BODY_CHARS,
        ErrorCode::InvalidBody => raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
        _ => false,
    }
}

#[test]
fn every_valid_message_is_stored_once_and_only_bad_ones_fail() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (db, _dir) = rt.block_on(test_db::fresh());
    let postgres = matches!(db, Db::Postgres(_));
    let people = rt.block_on(senders(&db));
    // The runner takes a `Fn`: the writer's connection is borrowed per case.
    let sqlite = std::cell::RefCell::new(match &db {
        Db::Sqlite(pool) => Some(
            super::open_writer(&pool.connect_options().get_filename().to_path_buf())
                .expect("the writer's connection"),
        ),
        Db::Postgres(_) => None,
    });
    let mut runner = TestRunner::new(Config::with_cases(if postgres { 96 } else { 192 }));
    runner
        .run(&items(postgres), |items| {
            let mut batch: Vec<NewMessage> = Vec::new();
            let mut expect: Vec<Expect> = Vec::new();
            let mut last_accepted: Option<usize> = None;
            for item in items {
                let new = |sender: Option<UserId>, conversation, body: String| NewMessage {
                    conversation_id: conversation,
                    sender_id: sender,
                    client_id: client_id(),
                    body,
                    created_at: Timestamp::now(),
                    line: None,
                };
                match item {
                    Item::Typed { sender, body } => match clean_body(&body) {
                        Ok(clean) => {
                            prop_assert!(!clean
                                .chars()
                                .any(|c| c.is_control() && c != '\n' && c != '\t'));
                            let (user, conversation) = people[sender];
                            last_accepted = Some(batch.len());
                            batch.push(new(Some(user), conversation, clean.clone()));
                            expect.push(Expect::Stored(clean));
                        }
                        Err(refused) => {
                            prop_assert!(
                                justified(refused.code(), &body),
                                "{} for {body:?}",
                                refused.code()
                            );
                        }
                    },
                    Item::Retry => {
                        if let Some(first) = last_accepted {
                            batch.push(batch[first].clone());
                            expect.push(Expect::SameAs(first));
                        }
                    }
                    Item::Orphan => {
                        batch.push(new(
                            Some(people[0].0),
                            ConversationId(999_999_999),
                            "orphan".into(),
                        ));
                        expect.push(Expect::Refused);
                    }
                    Item::UncheckedNul { sender } => {
                        let (user, conversation) = people[sender];
                        batch.push(new(Some(user), conversation, "bad\u{0}body".into()));
                        expect.push(Expect::Refused);
                    }
                }
            }
            let answers = match sqlite.borrow_mut().as_mut() {
                Some(conn) => store_sqlite(conn, &batch).0,
                None => rt.block_on(store_postgres(
                    match &db {
                        Db::Postgres(pool) => pool,
                        Db::Sqlite(_) => unreachable!(),
                    },
                    &batch,
                )),
            };
            prop_assert_eq!(answers.len(), batch.len());
            for (i, (answer, expected)) in answers.iter().zip(&expect).enumerate() {
                let message = &batch[i];
                let sender = message.sender_id.expect("a member's message");
                let rows = rt.block_on(stored(&db, sender, &message.client_id));
                match expected {
                    Expect::Stored(body) => {
                        let Ok(Inserted::New(row)) = answer else {
                            return Err(TestCaseError::fail(format!(
                                "message {i} not stored: {answer:?}"
                            )));
                        };
                        prop_assert_eq!(&row.body, body);
                        prop_assert_eq!(&rows, &vec![body.clone()], "stored exactly once");
                    }
                    Expect::SameAs(first) => {
                        let (Ok(Inserted::Existing(row)), Ok(Inserted::New(original))) =
                            (answer, &answers[*first])
                        else {
                            return Err(TestCaseError::fail(format!("retry {i}: {answer:?}")));
                        };
                        prop_assert_eq!(row.id, original.id);
                        prop_assert_eq!(rows.len(), 1, "a retry is not stored again");
                    }
                    Expect::Refused => {
                        prop_assert!(
                            matches!(answer, Err(StoreError::MessageRefused)),
                            "{answer:?}"
                        );
                        prop_assert!(rows.is_empty());
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
