//! `haven seed-demo --history`: the synthetic history of a large university after three
//! years, for measuring Haven at the size a real service reaches (`make bench-scale`,
//! docs/benchmarks.md). Synthetic names and bodies only, loaded in large transactions
//! (`store::bulk`), never through the API.
//!
//! The people are the same at every size (60 psychiatrists, 15,000 students, 18,000
//! conversations, 5,000 live sessions); only the history grows with `messages`. The probes
//! the benchmark reads are the same at every size too, so that a figure at 3 million
//! messages compares with its own at 3 thousand:
//! - `hist-p0`, the busiest psychiatrist: 600 conversations, `40,000 × messages / 3M` of
//!   them in the last 30 days;
//! - `hist-s0`, a student with 2,000 messages in one conversation (with `hist-p0`), which
//!   `hist-p0` opened 300 times and was connected 300 times during;
//! - `hist-p1`, whose 20 most recent conversations hold the newest 200 messages (catch-up
//!   from 200 behind).

use std::collections::HashMap;

use app::protocol::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use crate::store::bulk::{self, TextRows};
use crate::store::sessions::Sessions;
use crate::store::{Db, StoreError};

/// Psychiatrists, students, conversations and live sessions, at every size.
const PSYCHIATRISTS: i64 = 60;
const STUDENTS: i64 = 15_000;
const CONVERSATIONS: i64 = 18_000;
const SESSIONS: usize = 5_000;
/// The busiest psychiatrist's conversations.
const BUSIEST_CONVERSATIONS: i64 = 600;
/// Messages of the long conversation of `hist-s0`.
const LONG_CONVERSATION: usize = 2_000;
/// The newest messages, spread over 20 conversations of `hist-p1`.
const CATCH_UP: usize = 200;
const CATCH_UP_CONVERSATIONS: usize = 20;
/// Openings of the long conversation by its psychiatrist, and their connections.
const PROBE_ACCESSES: usize = 300;
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

/// Username prefix of every account of the history.
pub const PREFIX: &str = "hist";

/// What was loaded.
#[derive(Debug, Clone, Copy)]
pub struct Loaded {
    pub users: usize,
    pub conversations: usize,
    pub messages: usize,
    pub accesses: usize,
    pub sessions: usize,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sender {
    Student,
    Psychiatrist,
    Notice,
}

struct Message {
    at: i64,
    conversation: usize,
    sender: Sender,
}

/// Phrases of synthetic messages (no real person's words).
const PHRASES: &[&str] = &[
    "Synthetic: exams are making it hard to sleep this week.",
    "Synthetic: thank you, that helped more than I expected.",
    "Synthetic: could we talk about the group project again?",
    "Synthetic: I tried the breathing exercise before the lecture.",
    "Synthetic: how have the evenings been since we last spoke?",
    "Synthetic: let's look at what made Tuesday difficult.",
    "Synthetic: I missed two seminars and feel behind.",
    "Synthetic: that sounds like a lot to carry at once.",
    "Synthetic: my flatmates are loud and I cannot focus.",
    "Synthetic: would a short plan for the week help?",
];

/// Fills an empty, migrated database with about `messages` messages of history (every
/// account's password hashes to `password_hash`).
pub async fn seed(db: &Db, messages: usize, password_hash: &str) -> Result<Loaded, StoreError> {
    let now = Timestamp::now().as_millis();
    let start = now - 1095 * DAY;
    let mut rng = StdRng::seed_from_u64(25);

    // The conversations: (student id, psychiatrist id, began).
    let pairs: Vec<(i64, i64, i64)> = (1..=CONVERSATIONS)
        .map(|c| {
            let (k, psychiatrist) = if c <= BUSIEST_CONVERSATIONS {
                (c, 1)
            } else if c <= STUDENTS {
                (c, 2 + c % (PSYCHIATRISTS - 1))
            } else {
                // A second psychiatrist for 3,000 students, never their first one (and
                // never for `hist-s0`, whose one conversation is the probe).
                let k = c - STUDENTS + 1;
                (k, 2 + (k + 21) % (PSYCHIATRISTS - 1))
            };
            let began = if c == 1 {
                now - 400 * DAY
            } else {
                rng.gen_range(start..now - 31 * DAY)
            };
            (PSYCHIATRISTS + k, psychiatrist, began)
        })
        .collect();
    let catch_up: Vec<usize> = pairs
        .iter()
        .enumerate()
        .filter(|(_, (_, p, _))| *p == 2)
        .map(|(i, _)| i)
        .take(CATCH_UP_CONVERSATIONS)
        .collect();

    // When each conversation's messages were written.
    let mut times: Vec<Vec<i64>> = vec![Vec::new(); pairs.len()];
    times[0].extend((0..LONG_CONVERSATION).map(|_| rng.gen_range(now - 400 * DAY..now - 31 * DAY)));
    let busiest_recent = 40_000 * messages / 3_000_000;
    for _ in 0..busiest_recent {
        // Not the long conversation: it holds exactly its 2,000 at every size.
        let c = rng.gen_range(1..BUSIEST_CONVERSATIONS as usize);
        times[c].push(rng.gen_range(now - 30 * DAY..now - HOUR));
    }
    // About one student message in twenty is followed by a notice: leave room for them.
    let rest = messages.saturating_sub(LONG_CONVERSATION + CATCH_UP + busiest_recent) * 9 / 10;
    // Most conversations short, a tenth long.
    let weights: Vec<f64> = (0..pairs.len())
        .map(|c| {
            if c == 0 {
                0.0
            } else if rng.gen_bool(0.1) {
                rng.gen_range(50.0..150.0)
            } else {
                rng.gen_range(1.0..10.0)
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    for (c, w) in weights.iter().enumerate() {
        let expected = rest as f64 * w / total;
        let n = expected.floor() as usize + usize::from(rng.gen_bool(expected.fract()));
        let began = pairs[c].2;
        times[c].extend((0..n).map(|_| rng.gen_range(began..now - HOUR)));
    }
    for (i, &c) in catch_up.iter().cycle().take(CATCH_UP).enumerate() {
        times[c].push(now - (CATCH_UP - i) as i64 * 1000);
    }

    // Who wrote each: a student starts; students write in runs, psychiatrists answer; a
    // student writing at night after an answer gets Haven's notice.
    let mut all: Vec<Message> = Vec::with_capacity(messages + messages / 20);
    for (c, list) in times.iter_mut().enumerate() {
        list.sort_unstable();
        let mut previous = None;
        for &at in list.iter() {
            let sender = match previous {
                None => Sender::Student,
                Some(Sender::Psychiatrist) if rng.gen_bool(0.3) => Sender::Psychiatrist,
                Some(Sender::Psychiatrist) => Sender::Student,
                Some(_) if rng.gen_bool(0.4) => Sender::Student,
                Some(_) => Sender::Psychiatrist,
            };
            all.push(Message {
                at,
                conversation: c,
                sender,
            });
            let hour = (at.rem_euclid(DAY)) / HOUR;
            if sender == Sender::Student
                && previous != Some(Sender::Student)
                && !(9..17).contains(&hour)
                && at < now - HOUR
                && rng.gen_bool(0.5)
            {
                all.push(Message {
                    at: at + 1000,
                    conversation: c,
                    sender: Sender::Notice,
                });
            }
            previous = Some(sender);
        }
    }
    drop(times);
    all.sort_by_key(|m| (m.at, m.conversation));

    // The aggregates the message trigger keeps, as it would have kept them.
    let mut state = vec![ConversationState::default(); pairs.len()];
    let mut reply_waits: HashMap<(i64, String, i64), i64> = HashMap::new();
    let mut message_rows: TextRows = Vec::with_capacity(all.len());
    for (i, m) in all.iter().enumerate() {
        let id = i as i64 + 1;
        let (student, psychiatrist, _) = pairs[m.conversation];
        let s = &mut state[m.conversation];
        s.last_message_id = id;
        s.ids.push((id, m.sender));
        let sender_id = match m.sender {
            Sender::Student => Some(student),
            Sender::Psychiatrist => Some(psychiatrist),
            Sender::Notice => None,
        };
        match m.sender {
            Sender::Notice => {}
            Sender::Student => {
                s.last_text_id = id;
                s.student_first.get_or_insert(m.at);
                s.student_awaiting = None;
                s.psychiatrist_awaiting.get_or_insert(m.at);
            }
            Sender::Psychiatrist => {
                s.last_text_id = id;
                if let Some(waiting) = s.psychiatrist_awaiting.take() {
                    let hours = ((m.at - waiting + HOUR - 1) / HOUR).max(1);
                    *reply_waits
                        .entry((psychiatrist, day(m.at), hours))
                        .or_default() += 1;
                }
                s.psychiatrist_first_written.get_or_insert(m.at);
                s.student_awaiting.get_or_insert(m.at);
            }
        }
        let phrase = PHRASES[rng.gen_range(0..PHRASES.len())];
        message_rows.push(vec![
            Some(id.to_string()),
            Some((m.conversation + 1).to_string()),
            sender_id.map(|s| s.to_string()),
            Some(
                if sender_id.is_some() {
                    "text"
                } else {
                    "notice"
                }
                .to_owned(),
            ),
            Some(uuid::Uuid::from_u64_pair(id as u64, m.conversation as u64).to_string()),
            Some(match m.sender {
                Sender::Notice => {
                    "Synthetic notice: your psychiatrist is outside their office hours.".to_owned()
                }
                _ => format!("{phrase} (#{id})"),
            }),
            Some(text_time(m.at)),
            Some("0".to_owned()),
            // No group lines, nothing removed by a group's leader.
            None,
            None,
            Some("0".to_owned()),
        ]);
    }
    let message_count = all.len();
    let time_of = |id: i64| all[(id - 1) as usize].at;

    let mut users: TextRows = Vec::new();
    for p in 0..PSYCHIATRISTS {
        let away = p == 5;
        users.push(vec![
            Some((p + 1).to_string()),
            Some(format!("{PREFIX}-p{p}")),
            Some(format!("Dr. Synthetic {p}")),
            Some("psychiatrist".to_owned()),
            Some("Synthetic psychiatrist of the history benchmark.".to_owned()),
            Some(password_hash.to_owned()),
            None,
            Some(text_time(start)),
            Some(text_time(now - rng.gen_range(0..2 * DAY))),
            away.then(|| text_time(now - 3 * DAY)),
            away.then(|| day(now + 7 * DAY)),
            Some(if away { "Synthetic leave." } else { "" }.to_owned()),
            Some(if p == 7 { "0" } else { "1" }.to_owned()),
            None,
        ]);
    }
    for s in 0..STUDENTS {
        users.push(vec![
            Some((PSYCHIATRISTS + 1 + s).to_string()),
            Some(format!("{PREFIX}-s{s}")),
            Some(format!("Synthetic student {s}")),
            Some("student".to_owned()),
            Some(String::new()),
            Some(password_hash.to_owned()),
            None,
            Some(text_time(start)),
            Some(text_time(now - rng.gen_range(0..300 * DAY))),
            None,
            None,
            Some(String::new()),
            Some("1".to_owned()),
            None,
        ]);
    }

    let mut conversations: TextRows = Vec::new();
    let mut members: TextRows = Vec::new();
    let mut direct: TextRows = Vec::new();
    for (c, ((student, psychiatrist, began), s)) in pairs.iter().zip(&state).enumerate() {
        let id = (c + 1).to_string();
        let optional_id = |id: i64| (id > 0).then(|| id.to_string());
        conversations.push(vec![
            Some(id.clone()),
            Some(text_time(*began)),
            optional_id(s.last_message_id),
            optional_id(s.last_text_id),
        ]);
        // Most people have read everything; some have a few messages unread.
        for (user, role) in [
            (*student, Sender::Student),
            (*psychiatrist, Sender::Psychiatrist),
        ] {
            let read_upto = if s.ids.is_empty() || rng.gen_bool(0.85) {
                s.ids.len()
            } else {
                rng.gen_range(s.ids.len() / 2..=s.ids.len())
            };
            let last_read_id = read_upto.checked_sub(1).map_or(0, |i| s.ids[i].0);
            let unread = s.ids[read_upto..]
                .iter()
                .filter(|(_, sender)| *sender != role && *sender != Sender::Notice)
                .count();
            let (awaiting, first) = match role {
                Sender::Student => (s.student_awaiting, s.student_first),
                _ => (s.psychiatrist_awaiting, s.psychiatrist_first_written),
            };
            members.push(vec![
                Some(id.clone()),
                Some(user.to_string()),
                Some(last_read_id.to_string()),
                (last_read_id > 0).then(|| text_time((time_of(last_read_id) + 300_000).min(now))),
                Some("0".to_owned()),
                Some("0".to_owned()),
                Some(s.last_message_id.to_string()),
                Some(unread.to_string()),
                awaiting.map(text_time),
                awaiting.map(text_time),
                first.map(text_time),
                // Everything visible: a one-to-one conversation.
                Some("0".to_owned()),
            ]);
        }
        direct.push(vec![
            Some(student.to_string()),
            Some(psychiatrist.to_string()),
            Some(id),
        ]);
    }
    drop(state);

    let waits: TextRows = reply_waits
        .into_iter()
        .map(|((psychiatrist, day, hours), n)| {
            vec![
                Some(psychiatrist.to_string()),
                Some(day),
                Some(hours.to_string()),
                Some(n.to_string()),
            ]
        })
        .collect();
    let hours: TextRows = (1..=PSYCHIATRISTS)
        .filter(|p| p % 10 != 0)
        .flat_map(|p| {
            (0..5).map(move |weekday| {
                vec![
                    Some(p.to_string()),
                    Some(weekday.to_string()),
                    Some("540".to_owned()),
                    Some("1020".to_owned()),
                ]
            })
        })
        .collect();

    // The access record: about one row per message. Psychiatrists open their
    // conversations (pages, earlier history), students their own; a fifth are live
    // connections, which cover every conversation of their user.
    let mut accesses: Vec<(i64, i64, Option<usize>, &str)> = (0..messages)
        .map(|_| {
            let c = rng.gen_range(0..pairs.len());
            let (student, psychiatrist, began) = pairs[c];
            let at = rng.gen_range(began..now);
            let user = if rng.gen_bool(0.8) {
                psychiatrist
            } else {
                student
            };
            match rng.gen_range(0..10) {
                0..=6 => (at, user, Some(c), "page"),
                7 => (at, user, Some(c), "history"),
                _ => (at, user, None, "socket"),
            }
        })
        .collect();
    // The probe's record, the same at every size: its psychiatrist opened the long
    // conversation and connected 300 times each over its 400 days, so the student's list
    // (the newest 100) is always full.
    for _ in 0..PROBE_ACCESSES {
        let at = rng.gen_range(now - 400 * DAY..now);
        accesses.push((at, 1, Some(0), "page"));
        accesses.push((rng.gen_range(now - 400 * DAY..now), 1, None, "socket"));
    }
    accesses.sort_unstable_by_key(|a| a.0);
    let access_rows: TextRows = accesses
        .iter()
        .enumerate()
        .map(|(i, (at, user, conversation, action))| {
            vec![
                Some((i + 1).to_string()),
                Some(text_time(*at)),
                Some(user.to_string()),
                conversation.map(|c| (c + 1).to_string()),
                Some((*action).to_owned()),
                Some(format!("192.0.2.{}", i % 250 + 1)),
            ]
        })
        .collect();

    let loaded = Loaded {
        users: users.len(),
        conversations: conversations.len(),
        messages: message_count,
        accesses: access_rows.len(),
        sessions: SESSIONS,
    };
    bulk::load(
        db,
        &[
            ("users", users),
            ("conversations", conversations),
            ("messages", message_rows),
            ("conversation_members", members),
            ("direct_conversations", direct),
            ("reply_waits", waits),
            ("office_hours", hours),
            ("access_log", access_rows),
        ],
    )
    .await?;

    // Live sessions, through the session store itself (its own record format).
    let sessions = Sessions::new(db);
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    for i in 0..SESSIONS {
        let user = rng.gen_range(1..=PSYCHIATRISTS + STUDENTS);
        let mut data = HashMap::new();
        data.insert("user".to_owned(), serde_json::json!({ "id": user }));
        let mut record = Record {
            id: Id(i128::from(rng.gen::<i64>()) << 64 | i as i128),
            data,
            expiry_date: expiry,
        };
        sessions
            .create(&mut record)
            .await
            .map_err(|e| StoreError::Corrupt(format!("a synthetic session: {e}")))?;
    }
    Ok(loaded)
}

/// A conversation's messages as the trigger would have counted them.
#[derive(Debug, Clone, Default)]
struct ConversationState {
    ids: Vec<(i64, Sender)>,
    last_message_id: i64,
    last_text_id: i64,
    student_first: Option<i64>,
    psychiatrist_first_written: Option<i64>,
    /// Since when the student has waited for the psychiatrist, and the other way round.
    psychiatrist_awaiting: Option<i64>,
    student_awaiting: Option<i64>,
}

/// A time as SQLite stores it (and PostgreSQL reads it).
fn text_time(millis: i64) -> String {
    Timestamp::from_millis(millis).to_string()
}

/// The UTC date of a time, `YYYY-MM-DD`.
fn day(millis: i64) -> String {
    text_time(millis)[..10].to_owned()
}
