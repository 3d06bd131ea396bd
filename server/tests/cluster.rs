//! Several nodes: two Haven processes on one PostgreSQL database and one Redis, behind
//! HAProxy with the deployed configuration. Whatever node each tab landed on, users see the
//! same; a node's death costs a reconnect and nothing else; Redis restarting costs a
//! reconnect too.
//!
//! They need PostgreSQL, Redis and HAProxy: `make test` runs them in its PostgreSQL pass
//! (`scripts/test/with-postgres.sh`); each test starts its own Redis and balancer.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const IGNORED: &str = "needs PostgreSQL, Redis and HAProxy: make test runs it";

/// Presence events about `user` among `events`, as (online, lastSeen) pairs.
fn presence_of(events: &[(String, Value)], user: i64) -> Vec<bool> {
    events
        .iter()
        .filter(|(name, v)| name == "presence" && v["userId"] == user)
        .map(|(_, v)| v["online"].as_bool().expect("online"))
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn two_nodes_deliver_type_read_count_presence_and_sign_out_as_one() {
    let _ = IGNORED;
    let cluster = TestCluster::start(&[("HAVEN_PRESENCE_GRACE_MS", "800")]).await;
    let (a, b) = (&cluster.a, &cluster.b);
    let doctor = a.psychiatrist("dr-nodes").await;
    let student = b.student("stu-nodes").await;

    // The psychiatrist on node B, the student on node A.
    let mut doctor_b = Peer::connect(b, &doctor, None).await;
    let mut student_a = Peer::connect(a, &student, None).await;
    let conversation = open_with(&student_a, doctor.id).await;

    // A → B, and the echo to the student's second tab on the other node.
    let mut student_b = Peer::connect(b, &student, None).await;
    let sent = say(&student_a, conversation, "synthetic hello across nodes").await;
    let got = doctor_b.next("message:new").await;
    assert_eq!(got["id"], sent["id"], "the psychiatrist on B got it");
    assert_eq!(got["body"], "synthetic hello across nodes");
    let echo = student_b.next("message:new").await;
    assert_eq!(echo["id"], sent["id"], "the sender's tab on B got the echo");

    // B → A (the student's own message came back to its tab first).
    assert_eq!(student_a.next("message:new").await["id"], sent["id"]);
    let reply = say(&doctor_b, conversation, "synthetic reply across nodes").await;
    assert_eq!(student_a.next("message:new").await["id"], reply["id"]);
    assert_eq!(student_b.next("message:new").await["id"], reply["id"]);

    // Typing and read receipts cross too.
    let ack = student_a
        .call(
            "typing",
            json!({ "conversationId": conversation, "typing": true }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let typing = doctor_b.next("typing").await;
    assert_eq!(
        typing["userId"], student.id,
        "{typing} doctor {}",
        doctor.id
    );
    let ack = doctor_b
        .call(
            "conversation:read",
            json!({ "conversationId": conversation, "lastReadId": sent["id"] }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let read = student_a.next("conversation:read").await;
    assert_eq!(read["lastReadId"], sent["id"]);

    // One tab on each node is one presence: closing A's leaves the student online.
    let before = doctor_b.collect_all(Duration::from_millis(300)).await;
    assert!(
        !presence_of(&before, student.id).contains(&false),
        "{before:?}"
    );
    student_a.disconnect().await;
    let meanwhile = doctor_b.collect_all(Duration::from_secs(3)).await;
    assert_eq!(
        presence_of(&meanwhile, student.id),
        Vec::<bool>::new(),
        "still online through the tab on B"
    );
    // The last tab closes: offline once, after the grace period, with last_seen stored.
    student_b.disconnect().await;
    let after = doctor_b.collect_all(Duration::from_secs(4)).await;
    assert_eq!(
        presence_of(&after, student.id),
        vec![false],
        "announced once, not once per node: {after:?}"
    );
    let db = a.db().await;
    let stored = db
        .text(&format!(
            "SELECT CAST(last_seen_at AS TEXT) FROM users WHERE id = {}",
            student.id
        ))
        .await;
    assert!(stored.is_some(), "last_seen stored");

    // Signing out on A closes the session's socket on B.
    let mut student_b = Peer::connect(b, &student, None).await;
    assert_eq!(a.logout(&student.cookie).await, 204, "signed out on A");
    assert!(
        student_b.closed_within(Duration::from_secs(5)).await,
        "the socket on B closed"
    );
}

/// Sends `count` numbered messages one after another; answers the acked ones' ids and
/// bodies, stopping at the first send that is not acked.
async fn send_until_cut(
    peer: Peer,
    conversation: i64,
    who: &str,
    count: usize,
) -> Vec<(i64, String)> {
    let mut acked = Vec::new();
    for i in 0..count {
        let body = format!("synthetic {who} {i}");
        let payload =
            json!({ "conversationId": conversation, "clientId": client_id(), "body": body });
        let ack = tokio::time::timeout(
            Duration::from_secs(3),
            peer.try_call("message:send", payload),
        )
        .await;
        match ack {
            Ok(Some(ack)) if ack["ok"] == true => {
                acked.push((ack["message"]["id"].as_i64().expect("id"), body))
            }
            _ => break,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    acked
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn killing_a_node_loses_nothing_and_its_users_go_offline_within_the_bound() {
    let mut cluster = TestCluster::start(&[
        ("HAVEN_PRESENCE_GRACE_MS", "1000"),
        ("HAVEN_SEND_RATE_PER_SEC", "1000"),
        ("HAVEN_SEND_BURST", "1000"),
    ])
    .await;
    let doctor = cluster.b.psychiatrist("dr-kill").await;
    let student = cluster.a.student("stu-kill").await;
    let bystander = cluster.a.student("stu-left").await;

    // The student and a second student on A (directly); the psychiatrist on B.
    let mut doctor_b = Peer::connect(&cluster.b, &doctor, None).await;
    let student_a = Peer::connect(&cluster.a, &student, None).await;
    let bystander_a = Peer::connect(&cluster.a, &bystander, None).await;
    let conversation = open_with(&student_a, doctor.id).await;
    open_with(&bystander_a, doctor.id).await;
    let _ = doctor_b.collect_all(Duration::from_millis(500)).await;

    // Both sides send; A is killed while they do.
    let doctor_sender = Peer::connect(&cluster.b, &doctor, None).await;
    let from_student = tokio::spawn(send_until_cut(student_a, conversation, "student", 400));
    let from_doctor = tokio::spawn(send_until_cut(doctor_sender, conversation, "doctor", 60));
    tokio::time::sleep(Duration::from_millis(700)).await;
    cluster.a.kill().await;
    let killed_at = Instant::now();
    let student_acked = from_student.await.expect("student sender");
    let doctor_acked = from_doctor.await.expect("doctor sender");
    assert!(
        !student_acked.is_empty(),
        "the student sent before the kill"
    );
    assert!(
        student_acked.len() < 400,
        "the kill cut the student's sends"
    );

    // The student's tab reconnects through the balancer (to B) and catches up from 0.
    let mut student_again = Peer::connect_at(
        &cluster.balancer.base,
        &student,
        Some(json!({ "lastSeenId": 0 })),
    )
    .await;
    let replayed = student_again
        .collect("message:new", Duration::from_secs(3))
        .await;
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for message in &replayed {
        *seen.entry(message["id"].as_i64().expect("id")).or_default() += 1;
    }
    for (id, body) in student_acked.iter().chain(&doctor_acked) {
        assert_eq!(seen.get(id), Some(&1), "{body} caught up once");
    }

    // Everything acked is stored once.
    let db = cluster.b.db().await;
    for (id, body) in student_acked.iter().chain(&doctor_acked) {
        let copies = db
            .number(&format!(
                "SELECT COUNT(*) FROM messages WHERE body = '{body}'"
            ))
            .await;
        assert_eq!(copies, 1, "{body} (id {id}) stored once");
    }

    // The psychiatrist on B got every message the student had acked, once.
    let live = doctor_b.collect_all(Duration::from_secs(1)).await;
    let mut delivered: HashMap<i64, usize> = HashMap::new();
    for (name, message) in &live {
        if name == "message:new" {
            *delivered
                .entry(message["id"].as_i64().expect("id"))
                .or_default() += 1;
        }
    }
    for (id, body) in &student_acked {
        assert_eq!(delivered.get(id), Some(&1), "{body} delivered live once");
    }

    // The bystander never came back: offline for everyone within the bound; the student
    // who reconnected is not.
    let mut events = live;
    let bound = Duration::from_secs(20);
    while presence_of(&events, bystander.id).is_empty() && killed_at.elapsed() < bound {
        events.extend(doctor_b.collect_all(Duration::from_millis(500)).await);
    }
    let offline_after = killed_at.elapsed();
    assert_eq!(
        presence_of(&events, bystander.id),
        vec![false],
        "the bystander went offline once"
    );
    assert!(offline_after < bound, "{offline_after:?}");
    println!("a killed node's users went offline after {offline_after:?} (bound {bound:?})");
    assert!(
        !presence_of(&events, student.id).contains(&false),
        "the student reconnected: never shown offline"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn deliveries_resume_after_redis_restarts_and_nothing_acked_is_lost() {
    let mut cluster = TestCluster::start(&[]).await;
    let doctor = cluster.b.psychiatrist("dr-redis").await;
    let student = cluster.a.student("stu-redis").await;
    let mut doctor_b = Peer::connect(&cluster.b, &doctor, None).await;
    let student_a = Peer::connect(&cluster.a, &student, None).await;
    let conversation = open_with(&student_a, doctor.id).await;
    let first = say(&student_a, conversation, "synthetic before").await;
    assert_eq!(doctor_b.next("message:new").await["id"], first["id"]);

    // Redis dies: within the bound the node says so to the balancer, and refuses sockets.
    cluster.redis.kill().await;
    let during = send_until_cut(student_a, conversation, "during", 5).await;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut health = String::new();
    while Instant::now() < deadline {
        let res = http
            .get(cluster.a.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        if res.status() == 503 {
            health = res.text().await.expect("body");
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        health.contains("redis: unavailable"),
        "healthz said: {health:?}"
    );
    assert!(
        matches!(
            cluster.a.socket(&[("Cookie", student.cookie.as_str())]).await,
            SocketOutcome::Refused(ref why) if why.contains("unavailable")
        ),
        "no sockets while Redis is away"
    );

    // Redis is back: without restarting a node, both serve again and deliver.
    cluster.redis.start_again().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let a = http
            .get(cluster.a.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        let b = http
            .get(cluster.b.url("/healthz"))
            .send()
            .await
            .expect("healthz");
        if a.status() == 200 && b.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the nodes recovered in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let student_a = Peer::connect(&cluster.a, &student, None).await;
    let mut doctor_b =
        Peer::connect(&cluster.b, &doctor, Some(first["id"].as_i64().expect("id"))).await;
    // What was acked during the outage reaches the psychiatrist by catch-up.
    let caught_up = doctor_b
        .collect("message:new", Duration::from_secs(2))
        .await;
    for (id, body) in &during {
        assert!(
            caught_up.iter().any(|m| m["id"] == *id),
            "{body} acked during the outage and caught up"
        );
    }
    let after = say(&student_a, conversation, "synthetic after").await;
    assert_eq!(
        doctor_b.next("message:new").await["id"],
        after["id"],
        "live delivery across nodes again"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn the_balancer_keeps_a_long_polling_connection_on_its_node() {
    let cluster = TestCluster::start(&[]).await;
    let student = cluster.a.student("stu-poll").await;
    let base = &cluster.balancer.base;
    let handshake = format!("{base}/socket.io/?EIO=4&transport=polling");

    // A browser keeps the balancer's cookie: every request of the connection reaches the
    // node that holds it.
    let browser = reqwest::Client::new();
    let open = browser
        .get(&handshake)
        .header("cookie", &student.cookie)
        .send()
        .await
        .expect("handshake");
    let node = common::set_cookie(open.headers(), "haven_node").expect("the balancer named a node");
    let node = node.split(';').next().unwrap_or_default().to_owned();
    let body = open.text().await.expect("handshake body");
    let sid = body
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("sid")
        .to_owned();
    let poll = format!("{handshake}&sid={sid}");
    let cookies = format!("{}; {node}", student.cookie);
    let connect = browser
        .post(&poll)
        .header("cookie", &cookies)
        .body("40")
        .send()
        .await
        .expect("post");
    assert_eq!(
        connect.status(),
        200,
        "the namespace CONNECT reached the same node"
    );
    let answer = browser
        .get(&poll)
        .header("cookie", &cookies)
        .send()
        .await
        .expect("poll");
    assert_eq!(answer.status(), 200, "the poll reached the same node");
    let packets = answer.text().await.expect("packets");
    assert!(!packets.is_empty(), "Engine.IO packets came back");

    // Without the cookie, round robin soon sends a request to the node that never heard
    // of this connection.
    let forgetful = reqwest::Client::new();
    let mut refused = false;
    for _ in 0..4 {
        let res = forgetful
            .post(&poll)
            .header("cookie", &student.cookie)
            .body("41")
            .send()
            .await
            .expect("post");
        refused |= res.status() == 400;
    }
    assert!(refused, "the sticky cookie is what keeps the node");
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn limits_and_throttles_are_one_quota_across_nodes() {
    let cluster = TestCluster::start(&[
        ("HAVEN_SEND_RATE_PER_SEC", "0.01"),
        ("HAVEN_SEND_BURST", "3"),
        ("HAVEN_LOGIN_FAILURES_PER_USERNAME", "2"),
        ("HAVEN_REGISTRATIONS_PER_ADDRESS", "3"),
    ])
    .await;
    let doctor = cluster.a.psychiatrist("dr-quota").await;
    let student = cluster.a.student("stu-quota").await;
    let on_a = Peer::connect(&cluster.a, &student, None).await;
    let on_b = Peer::connect(&cluster.b, &student, None).await;
    let conversation = open_with(&on_a, doctor.id).await;
    for i in 0..3 {
        say(&on_a, conversation, &format!("synthetic burst {i}")).await;
    }
    let ack = on_b
        .call(
            "message:send",
            json!({ "conversationId": conversation, "clientId": client_id(), "body": "synthetic one too many" }),
        )
        .await;
    assert_eq!(ack["error"]["code"], "rate_limited", "{ack}");

    // Typing signals: a burst of 6 at most, whichever node they reach.
    let mut refused = 0;
    for i in 0..8 {
        let peer = if i % 2 == 0 { &on_a } else { &on_b };
        let ack = peer
            .call(
                "typing",
                json!({ "conversationId": conversation, "typing": i % 4 == 0 }),
            )
            .await;
        refused += usize::from(ack["error"]["code"] == "rate_limited");
    }
    assert!(refused >= 1, "the typing burst is one quota across nodes");

    // Registrations from one address: the student above was the first of three.
    for (node, name) in [(&cluster.b, "stu-quota-2"), (&cluster.a, "stu-quota-3")] {
        assert_eq!(node.register(name).await.status(), 200, "{name}");
    }
    assert_eq!(
        cluster.b.register("stu-quota-4").await.status(),
        429,
        "a fourth registration from this address, on either node"
    );

    // Two wrong passwords on A; the next attempt on B must wait.
    for _ in 0..2 {
        let (status, _, _) = cluster.a.login("stu-quota", "wrong-passphrase", None).await;
        assert_eq!(status, 401);
    }
    let (status, _, _) = cluster.b.login("stu-quota", PASSWORD, None).await;
    assert_eq!(status, 429, "node B knows of A's failures");
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn metrics_count_without_names_and_stay_off_the_public_url() {
    let cluster = TestCluster::start(&[]).await;
    let doctor = cluster.a.psychiatrist("dr-metrics").await;
    let student = cluster.a.student("stu-metrics").await;
    let peer = Peer::connect(&cluster.a, &student, None).await;
    let conversation = open_with(&peer, doctor.id).await;
    say(&peer, conversation, "synthetic counted body").await;

    let http = reqwest::Client::new();
    let text = http
        .get(cluster.a.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("haven_sockets_connected 1"), "{text}");
    assert!(text.contains("haven_messages_stored_total 1"), "{text}");
    assert!(text.contains("haven_writer_queue_depth 0"), "{text}");
    assert!(text.contains("haven_writer_batch_size_count 1"), "{text}");
    assert!(text.contains("haven_redis_up 1"), "{text}");
    assert!(
        !text.contains("stu-metrics") && !text.contains("synthetic"),
        "{text}"
    );
    let health = http
        .get(cluster.a.url("/healthz"))
        .send()
        .await
        .expect("healthz")
        .text()
        .await
        .expect("text");
    assert_eq!(health, "database: ok\nwriter: ok\nredis: ok\n");
    let public = http
        .get(format!("{}/metrics", cluster.balancer.base))
        .send()
        .await
        .expect("metrics through the balancer");
    assert_eq!(public.status(), 404, "not on the public URL");
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn several_nodes_refuse_to_start_on_sqlite() {
    let redis = TestRedis::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let out = tokio::process::Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/h.db", dir.path().display()),
        )
        .env("HAVEN_REDIS_URL", redis.url())
        .env("HAVEN_CRISIS_RESOURCES", CRISIS_RESOURCES)
        .output()
        .await
        .expect("haven");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PostgreSQL"), "{err}");
}
