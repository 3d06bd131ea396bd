//! Conversations and messages over Socket.IO, against the real server.

mod common;

use std::time::Duration;

use common::{client_id, Account, Peer, TestServer};
use serde_json::{json, Value};

async fn open(peer: &Peer, with: i64) -> i64 {
    let ack = peer
        .call("conversation:open", json!({ "peerId": with }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    ack["conversation"]["id"].as_i64().expect("conversation id")
}

async fn send(peer: &Peer, conversation: i64, client: &str, body: &str) -> Value {
    peer.call(
        "message:send",
        json!({ "conversationId": conversation, "clientId": client, "body": body }),
    )
    .await
}

/// A fresh server, a psychiatrist, and a student's socket in a conversation with them.
async fn student_in_conversation(doctor: &str) -> (TestServer, Account, Peer, i64) {
    let (server, _, doctor, peer, conversation) =
        common::student_in_conversation("stu", doctor).await;
    (server, doctor, peer, conversation)
}

#[tokio::test]
async fn student_and_psychiatrist_exchange_messages_both_ways() {
    let server = TestServer::start().await;
    let student = server.student("stu").await;
    let doctor = server.psychiatrist("dr.who").await;
    let mut s1 = Peer::connect(&server, &student, None).await;
    let mut s2 = Peer::connect(&server, &student, None).await; // a second tab
    let mut p = Peer::connect(&server, &doctor, None).await;

    let conversation = open(&s1, doctor.id).await;
    assert_eq!(
        open(&p, student.id).await,
        conversation,
        "the same pair gets the same conversation"
    );
    assert_eq!(open(&s2, doctor.id).await, conversation);

    let client = client_id();
    let ack = send(&s1, conversation, &client, "  hello, is anyone there?  ").await;
    assert_eq!(ack["ok"], true, "{ack}");
    let message = &ack["message"];
    assert_eq!(message["body"], "hello, is anyone there?", "trimmed");
    assert_eq!(message["clientId"], client);
    assert_eq!(message["senderId"], student.id);
    assert!(message["id"].is_i64() && message["createdAt"].is_string());

    assert_eq!(
        &p.next("message:new").await,
        message,
        "the psychiatrist gets it"
    );
    assert_eq!(
        &s2.next("message:new").await,
        message,
        "the sender's other tab gets it"
    );
    assert_eq!(
        &s1.next("message:new").await,
        message,
        "the sender's own socket gets the echo"
    );

    let reply = send(
        &p,
        conversation,
        &client_id(),
        "I'm here. How are you feeling?",
    )
    .await;
    assert_eq!(reply["ok"], true);
    assert_eq!(s1.next("message:new").await, reply["message"]);
    assert_eq!(s2.next("message:new").await, reply["message"]);
    assert!(
        reply["message"]["id"].as_i64() > message["id"].as_i64(),
        "ids grow"
    );
}

#[tokio::test]
async fn a_resend_with_the_same_client_id_is_stored_and_emitted_once() {
    let (server, doctor, s, conversation) = student_in_conversation("dr.once").await;
    let mut p = Peer::connect(&server, &doctor, None).await;

    let client = client_id();
    let first = send(&s, conversation, &client, "only once").await;
    let second = send(&s, conversation, &client, "only once").await;
    assert_eq!(first["ok"], true);
    assert_eq!(first, second, "the repeat acks the stored message");
    // Emitted once: the next message the doctor gets after it is the following one.
    let next = send(&s, conversation, &client_id(), "and then").await;
    assert_eq!(
        p.next_n("message:new", 2).await,
        [first["message"].clone(), next["message"].clone()]
    );
    let stored = server.messages_in(conversation).await;
    assert_eq!(stored, 2, "stored once");
}

#[tokio::test]
async fn bad_input_gets_a_code_stores_nothing_and_keeps_the_socket() {
    let server = TestServer::start_with(&[
        ("HAVEN_SEND_BURST", "30"),
        ("HAVEN_SEND_RATE_PER_SEC", "0.01"),
    ])
    .await;
    let student = server.student("stu").await;
    let outsider = server.student("outsider").await;
    let doctor = server.psychiatrist("dr.strict").await;
    let s = Peer::connect(&server, &student, None).await;
    let o = Peer::connect(&server, &outsider, None).await;
    let conversation = open(&s, doctor.id).await;
    let good = client_id();

    let cases: Vec<(Value, &str)> = vec![
        (json!("just a string"), "invalid_payload"),
        (json!({ "clientId": good, "body": "x" }), "invalid_payload"),
        (
            json!({ "conversationId": "1", "clientId": good, "body": "x" }),
            "invalid_payload",
        ),
        (
            json!({ "conversationId": conversation, "clientId": 7, "body": "x" }),
            "invalid_payload",
        ),
        (
            json!({ "conversationId": conversation, "clientId": good, "body": null }),
            "invalid_payload",
        ),
        (
            json!({ "conversationId": conversation, "clientId": good, "body": "" }),
            "empty_body",
        ),
        (
            json!({ "conversationId": conversation, "clientId": good, "body": " \n\t " }),
            "empty_body",
        ),
        (
            json!({ "conversationId": conversation, "clientId": good, "body": "a".repeat(4001) }),
            "body_too_long",
        ),
        (
            json!({ "conversationId": conversation, "clientId": "not-a-uuid", "body": "x" }),
            "invalid_client_id",
        ),
        (
            json!({ "conversationId": 999_999, "clientId": good, "body": "x" }),
            "conversation_not_found",
        ),
    ];
    for (payload, code) in cases {
        let ack = s.call("message:send", payload.clone()).await;
        assert_eq!(ack["ok"], false, "{payload}");
        assert_eq!(ack["error"]["code"], code, "{payload} → {ack}");
        assert!(ack["error"]["message"].is_string());
    }
    // Someone else's conversation looks exactly like an unknown one.
    let ack = send(&o, conversation, &client_id(), "let me in").await;
    assert_eq!(ack["error"]["code"], "conversation_not_found");
    // Student to student is not a conversation Haven has: that id is no psychiatrist.
    let ack = s
        .call("conversation:open", json!({ "peerId": outsider.id }))
        .await;
    assert_eq!(ack["error"]["code"], "user_not_found");
    let ack = s.call("conversation:open", json!({ "peerId": "x" })).await;
    assert_eq!(ack["error"]["code"], "invalid_payload");

    // 4000 characters is fine, and the socket still works after all of the above.
    let ack = send(&s, conversation, &good, &"é".repeat(4000)).await;
    assert_eq!(ack["ok"], true, "{ack}");

    // Faster than a person: the bucket (30) runs dry.
    let mut codes = Vec::new();
    for _ in 0..31 {
        codes.push(send(&s, conversation, &client_id(), "quick").await["error"]["code"].clone());
    }
    assert_eq!(codes.last().unwrap(), "rate_limited", "{codes:?}");

    // Exactly the accepted messages were stored.
    assert_eq!(
        server.messages_in(conversation).await,
        30,
        "1 long + 29 quick before the limit"
    );
}

#[tokio::test]
async fn messages_missed_while_offline_arrive_on_reconnect_in_order_once() {
    let (server, doctor, s, conversation) = student_in_conversation("dr.later").await;
    let mut p = Peer::connect(&server, &doctor, None).await;

    let first = send(&s, conversation, &client_id(), "before").await;
    let seen = p.next("message:new").await["id"].as_i64().unwrap();
    assert_eq!(Some(seen), first["message"]["id"].as_i64());
    p.disconnect().await;

    let mut sent = Vec::new();
    for body in ["one", "two", "three"] {
        sent.push(send(&s, conversation, &client_id(), body).await["message"].clone());
    }

    let mut back = Peer::connect(&server, &doctor, Some(seen)).await;
    let replayed = back.next_n("message:new", 3).await;
    assert_eq!(replayed, sent, "the missed messages, in order");
    // A catch-up is queued at once: a message sent now comes right after it, so nothing
    // else was replayed.
    let now = send(&s, conversation, &client_id(), "now").await;
    assert_eq!(back.next("message:new").await, now["message"]);
}

#[tokio::test]
async fn a_long_catch_up_arrives_whole() {
    // More than a socket's default send queue (128 packets): the whole gap arrives, in order.
    let (server, doctor, s, conversation) = student_in_conversation("dr.longgap").await;
    let seen = send(&s, conversation, &client_id(), "seen").await["message"]["id"]
        .as_i64()
        .expect("acked");
    let db = server.db().await;
    let student = db
        .number(&format!(
            "SELECT user_id FROM conversation_members WHERE conversation_id = {conversation} \
             AND user_id <> {}",
            doctor.id
        ))
        .await;
    let mut missed = Vec::new();
    for i in 0..300 {
        let at = app::protocol::Timestamp::now();
        missed.push(
            db.insert_message(conversation, student, &format!("missed {i}"), at)
                .await,
        );
    }
    let mut back = Peer::connect(&server, &doctor, Some(seen)).await;
    let mut replayed = Vec::new();
    for _ in 0..300 {
        replayed.push(back.next("message:new").await["id"].as_i64().unwrap());
    }
    assert_eq!(replayed, missed);
}

#[tokio::test]
async fn a_message_committed_after_a_newer_one_still_reaches_a_reconnecting_client() {
    // Several writers (Haven nodes) share one PostgreSQL. Each takes its ids from one
    // counter row and holds it until it commits, so a smaller id can never become visible
    // after a larger one, and catch-up is exactly "after lastSeenId". SQLite has one
    // writer, whose ids commit in order, and a held transaction of ours would only block it.
    if !common::on_postgres() {
        return;
    }
    use sqlx::Connection;
    let (server, doctor, s, conversation) = student_in_conversation("dr.interleaved").await;
    let mut p = Peer::connect(&server, &doctor, None).await;
    let seen = send(&s, conversation, &client_id(), "seen live").await["message"]["id"]
        .as_i64()
        .expect("acked");
    assert_eq!(p.next("message:new").await["id"], seen);
    p.disconnect().await;

    // Another node's writer is mid-batch: it has taken its id, not yet committed.
    let mut other_node = sqlx::PgConnection::connect(&server.database_url)
        .await
        .expect("a second writer");
    let mut batch = other_node.begin().await.expect("its transaction");
    let slow: i64 = sqlx::query_scalar(
        "WITH taken AS (UPDATE message_ids SET last_id = last_id + 1 RETURNING last_id) \
         INSERT INTO messages (id, conversation_id, sender_id, kind, client_id, body, created_at) \
         SELECT taken.last_id, $1, user_id, 'text', gen_random_uuid(), 'from the slower node', now() \
         FROM taken, conversation_members WHERE conversation_id = $1 AND user_id <> $2 RETURNING id",
    )
    .bind(conversation)
    .bind(doctor.id)
    .fetch_one(&mut *batch)
    .await
    .expect("the slower node's insert");

    // This node's send waits for it (it cannot take a smaller id, nor commit first); the
    // slower node commits once the send is seen waiting on the counter's lock.
    let mut watcher = sqlx::PgConnection::connect(&server.database_url)
        .await
        .expect("a watching connection");
    let commit_when_waited_for = async {
        loop {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE wait_event_type = 'Lock' AND query LIKE '%message_ids%'",
            )
            .fetch_one(&mut watcher)
            .await
            .expect("pg_stat_activity");
            if waiting > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        batch.commit().await.expect("the slower node commits");
    };
    let fast_client = client_id();
    let (fast, ()) = tokio::join!(
        send(&s, conversation, &fast_client, "from the faster node"),
        commit_when_waited_for
    );
    let fast = fast["message"]["id"].as_i64().expect("acked");
    assert!(fast > slow, "ids {slow} then {fast}");

    // Back with the id seen live: exactly the two after it, in id order.
    let mut back = Peer::connect(&server, &doctor, Some(seen)).await;
    assert_eq!(back.next("message:new").await["id"], slow);
    assert_eq!(back.next("message:new").await["id"], fast);
    back.disconnect().await;
    // Back with the slower node's id: nothing older or equal is sent again (catch-up sends
    // in id order, so an older one would come first).
    let mut again = Peer::connect(&server, &doctor, Some(slow)).await;
    assert_eq!(again.next("message:new").await["id"], fast);
}

#[tokio::test]
async fn acked_messages_survive_a_server_crash() {
    let (mut server, doctor, s, conversation) = student_in_conversation("dr.durable").await;
    let ack = send(&s, conversation, &client_id(), "please don't lose this").await;
    assert_eq!(ack["ok"], true);
    s.disconnect().await;

    server.restart().await; // SIGKILL right after the ack

    let mut p = Peer::connect(&server, &doctor, Some(0)).await;
    assert_eq!(p.next("message:new").await, ack["message"]);
    let stored = server.messages_in(conversation).await;
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn committed_messages_reach_the_database_file_not_only_its_log() {
    // Commits go to the WAL; a thread of their own copies them into the database file.
    // Without it the log would grow for ever and the file would never hold a message.
    let (server, _, s, conversation) = student_in_conversation("dr.checkpoint").await;
    let Some(database_file) = server.database_file() else {
        return; // SQLite's own: PostgreSQL has no WAL file beside the database to copy.
    };
    let client = client_id();
    assert_eq!(
        send(&s, conversation, &client, "in the file").await["ok"],
        true
    );

    let copies = tempfile::tempdir().expect("temp dir");
    let copy = copies.path().join("file-only.db");
    let mut in_file = 0;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The file alone, without its log: what a checkpoint has written so far.
        if std::fs::copy(&database_file, &copy).is_err() {
            continue;
        }
        in_file = rusqlite::Connection::open(&copy)
            .and_then(|db| {
                db.query_row(
                    "SELECT count(*) FROM messages WHERE client_id = ?",
                    [&client],
                    |row| row.get(0),
                )
            })
            .unwrap_or(0);
        if in_file == 1 {
            break;
        }
    }
    assert_eq!(in_file, 1, "the message never reached the database file");
}

#[tokio::test]
async fn signing_out_disconnects_that_sessions_sockets() {
    let server = TestServer::start().await;
    let student = server.student("stu").await;
    let mut s = Peer::connect(&server, &student, None).await;
    assert_eq!(server.logout(&student.cookie).await, 204);
    assert!(s.closed_within(Duration::from_secs(5)).await);
}

#[tokio::test]
async fn concurrent_resends_of_one_client_id_store_one_message() {
    let server = TestServer::start().await;
    let student = server.student("stu").await;
    let doctor = server.psychiatrist("dr.race").await;
    let s1 = Peer::connect(&server, &student, None).await;
    let s2 = Peer::connect(&server, &student, None).await;
    let mut p = Peer::connect(&server, &doctor, None).await;
    let conversation = open(&s1, doctor.id).await;

    // Likely to land in one group commit: the in-batch duplicate path.
    for _ in 0..5 {
        let client = client_id();
        let (a, b) = tokio::join!(
            send(&s1, conversation, &client, "at the same time"),
            send(&s2, conversation, &client, "at the same time")
        );
        assert_eq!(a["ok"], true, "{a}");
        assert_eq!(
            a["message"], b["message"],
            "both acks name the one stored message"
        );
    }
    // Each emitted once: five distinct messages, then the next one sent.
    let last = send(&s1, conversation, &client_id(), "after them").await;
    let delivered = p.next_n("message:new", 6).await;
    let mut ids: Vec<i64> = delivered.iter().filter_map(|m| m["id"].as_i64()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 6, "{delivered:?}");
    assert_eq!(delivered[5], last["message"]);
}

/// A number from the server's `/metrics` (`None` when the line is absent).
async fn metric(server: &TestServer, name: &str) -> Option<f64> {
    let text = server
        .http()
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

/// Another connection holding the write lock the server's writer needs (SQLite's database
/// lock; PostgreSQL's message id counter): its commits wait, as on a stalled disk.
enum HeldWrites {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl HeldWrites {
    async fn hold(server: &TestServer) -> Self {
        use sqlx::{Connection, Executor};
        match server.database_file() {
            Some(file) => {
                let url = format!("sqlite://{}", file.display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("sqlite");
                conn.execute("BEGIN IMMEDIATE")
                    .await
                    .expect("the write lock");
                HeldWrites::Sqlite(conn)
            }
            None => {
                let mut conn = sqlx::PgConnection::connect(&server.database_url)
                    .await
                    .expect("postgres");
                conn.execute("BEGIN").await.expect("a transaction");
                conn.execute("SELECT last_id FROM message_ids FOR UPDATE")
                    .await
                    .expect("the id counter's lock");
                HeldWrites::Postgres(conn)
            }
        }
    }

    async fn release(self) {
        use sqlx::Executor;
        match self {
            HeldWrites::Sqlite(mut conn) => conn.execute("ROLLBACK").await.map(drop),
            HeldWrites::Postgres(mut conn) => conn.execute("ROLLBACK").await.map(drop),
        }
        .expect("release the lock");
    }
}

#[tokio::test]
async fn a_server_behind_refuses_new_messages_at_once_and_loses_none() {
    // At the default limit (the harness raises it for every other test).
    let server = TestServer::start_with(&[("HAVEN_BUSY_AFTER_MS", "100")]).await;
    let student = server.student("stu").await;
    let doctor = server.psychiatrist("dr.busy").await;
    let s = Peer::connect(&server, &student, None).await;
    let conversation = common::open_with(&s, doctor.id).await;
    let mut p = Peer::connect(&server, &doctor, None).await;
    let held = HeldWrites::hold(&server).await;

    // The first message reaches the writer, which cannot commit it: it waits.
    let (first, second) = (client_id(), client_id());
    let stuck = send(&s, conversation, &first, "the first, taken");
    let behind_then_refused = async {
        while metric(&server, "haven_behind_seconds")
            .await
            .expect("the gauge")
            < 0.1
        {
            tokio::task::yield_now().await;
        }
        // Behind by more than the limit: the next message is refused, and at once: the
        // lock is still held while this answer arrives.
        let refused = send(&s, conversation, &second, "the second, offered again").await;
        // Refused before its payload is read: even one that is not an object is `busy`.
        let unread = s.call("message:send", json!("not even an object")).await;
        held.release().await;
        (refused, unread)
    };
    let (stored, (refused, unread)) = tokio::join!(stuck, behind_then_refused);
    assert_eq!(
        stored["ok"], true,
        "the waiting message is stored: {stored}"
    );
    assert_eq!(refused["ok"], false, "{refused}");
    assert_eq!(refused["error"]["code"], "busy", "{refused}");
    // It says how long to wait: at least twice how far behind the writer is (over 0.1 s).
    let asked = refused["error"]["retryAfterMs"]
        .as_u64()
        .expect("retryAfterMs");
    assert!((200..=30_000).contains(&asked), "{refused}");
    assert_eq!(unread["error"]["code"], "busy", "{unread}");

    // Offered again with the same clientId (as the browser does after a pause), it is taken.
    let again = loop {
        let answer = send(&s, conversation, &second, "the second, offered again").await;
        if answer["error"]["code"] != "busy" {
            break answer;
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(again["ok"], true, "{again}");
    let delivered: Vec<Value> = p.next_n("message:new", 2).await;
    let ids: Vec<&str> = delivered
        .iter()
        .map(|m| m["clientId"].as_str().expect("clientId"))
        .collect();
    assert_eq!(ids, [first.as_str(), second.as_str()]);
    assert_eq!(
        server.messages_in(conversation).await,
        2,
        "each stored once"
    );
    let refusals = metric(&server, "haven_errors_total{code=\"busy\"}").await;
    assert!(refusals >= Some(1.0), "refusals counted: {refusals:?}");
}
