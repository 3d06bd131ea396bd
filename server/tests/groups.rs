//! Support groups over the real server, with several clients: invitations and aliases,
//! delivery to every member once, typing and receipts by handle, moderation cutting
//! delivery at once, history from joining, every bad input answered with its code, and a
//! scan of everything a student received for another student's id or names. On SQLite and
//! on PostgreSQL (`make test` runs both), and on two nodes (`two_nodes_…`, PostgreSQL pass).

mod common;

use common::*;
use serde_json::{json, Value};

/// A leader with three students, each with a one-to-one conversation with the leader:
/// Sam shows as "Quiet Fox" in the group, Kim under their display name, Ali is not invited.
struct Cast {
    doctor: Account,
    sam: Account,
    kim: Account,
    ali: Account,
}

async fn cast(server: &TestServer) -> Cast {
    let doctor = server.psychiatrist("dr-group").await;
    let sam = server.student_named("sam-synthetic", "Sam Synthetic").await;
    let kim = server.student_named("kim-synthetic", "Kim Synthetic").await;
    let ali = server.student_named("ali-synthetic", "Ali Synthetic").await;
    for student in [&sam, &kim, &ali] {
        let peer = Peer::connect(server, student, None).await;
        open_with(&peer, doctor.id).await;
        peer.disconnect().await;
    }
    Cast {
        doctor,
        sam,
        kim,
        ali,
    }
}

/// Creates a group as `doctor`; answers its id.
async fn create(doctor: &Peer, name: &str) -> i64 {
    let ack = doctor
        .call(
            "group:create",
            json!({ "name": name, "description": "Synthetic: a weekly group.", "memberLimit": 8 }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    ack["conversation"]["id"].as_i64().expect("id")
}

/// Invites `student` and has them accept with `alias`; answers the group as they see it.
async fn invite_and_join(
    doctor: &Peer,
    student: &mut Peer,
    group: i64,
    student_id: i64,
    alias: Value,
) -> Value {
    let ack = doctor
        .call(
            "group:invite",
            json!({ "conversationId": group, "studentId": student_id }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let invited = student.next("group:invited").await;
    assert_eq!(invited["id"], group);
    assert_eq!(invited["description"], "Synthetic: a weekly group.");
    let ack = student
        .call(
            "group:answer",
            json!({ "conversationId": group, "accept": true, "alias": alias }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    ack["conversation"].clone()
}

fn code(ack: &Value) -> &str {
    assert_eq!(ack["ok"], false, "{ack}");
    ack["error"]["code"].as_str().expect("a code")
}

/// Every value under keys that name a person, anywhere in `value`.
fn ids_named(value: &Value, out: &mut Vec<i64>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if matches!(
                    key.as_str(),
                    "userId" | "senderId" | "studentId" | "memberId"
                ) {
                    out.extend(v.as_i64());
                }
                // A presence snapshot lists who is online by id.
                if key == "online" {
                    out.extend(v.as_array().into_iter().flatten().filter_map(Value::as_i64));
                }
                ids_named(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| ids_named(v, out)),
        _ => {}
    }
}

/// Asserts nothing in `frames` names `other`: their id, their username, their display name.
fn assert_nothing_of(frames: &[Value], other: &Account, username: &str, display_name: &str) {
    for frame in frames {
        let mut ids = Vec::new();
        ids_named(frame, &mut ids);
        assert!(!ids.contains(&other.id), "another student's id in {frame}");
        let text = frame.to_string();
        assert!(!text.contains(username), "a username in {frame}");
        assert!(!text.contains(display_name), "a display name in {frame}");
    }
}

#[tokio::test]
async fn a_group_talks_in_real_time_and_a_student_learns_nothing_of_another() {
    let server = TestServer::start().await;
    let cast = cast(&server).await;
    let mut doctor = Peer::connect(&server, &cast.doctor, None).await;
    let mut sam = Peer::connect(&server, &cast.sam, None).await;
    let mut sam_tab = Peer::connect(&server, &cast.sam, None).await;
    let mut kim = Peer::connect(&server, &cast.kim, None).await;
    let group = create(&doctor, "Exam stress").await;

    let sam_group =
        invite_and_join(&doctor, &mut sam, group, cast.sam.id, json!("Quiet Fox")).await;
    let kim_group = invite_and_join(&doctor, &mut kim, group, cast.kim.id, Value::Null).await;
    assert_eq!(kim_group["students"], 2);
    assert_ne!(sam_group["me"], kim_group["me"], "a handle each");
    let mut acks: Vec<Value> = vec![kim_group.clone()];

    // The leader sees Sam join under the alias, with who is behind it.
    let joined = doctor.next("group:member").await;
    assert_eq!(joined["member"]["name"], "Quiet Fox");
    assert_eq!(joined["member"]["userId"], cast.sam.id);
    assert_eq!(joined["member"]["displayName"], "Sam Synthetic");

    // Sam's message reaches every member once, Sam's other tab included, before Kim's.
    let sent = say(&sam, group, "synthetic: hello group").await;
    let kims_reply = say(&kim, group, "synthetic: hi fox").await;
    acks.push(json!({ "message": kims_reply.clone() }));
    for (name, peer) in [
        ("doctor", &mut doctor),
        ("kim", &mut kim),
        ("sam tab", &mut sam_tab),
    ] {
        let messages: Vec<Value> = loop {
            let got = peer.next("message:new").await;
            if got["kind"] == "text" {
                break vec![got, peer.next("message:new").await];
            }
        };
        assert_eq!(messages[0]["id"], sent["id"], "{name}");
        assert_eq!(
            messages[1]["id"], kims_reply["id"],
            "{name}: once each, in order"
        );
        assert_eq!(messages[0]["author"]["name"], "Quiet Fox", "{name}");
    }
    let to_doctor = doctor
        .seen
        .iter()
        .rev()
        .find(|(n, v)| n == "message:new" && v["id"] == sent["id"])
        .unwrap();
    assert_eq!(
        to_doctor.1["senderId"], cast.sam.id,
        "the leader sees who wrote"
    );

    // Typing by handle: "Quiet Fox is typing…".
    sam.call("typing", json!({ "conversationId": group, "typing": true }))
        .await;
    let typing = kim.next("typing").await;
    assert_eq!(typing["author"]["name"], "Quiet Fox");
    assert!(typing.get("userId").is_none());
    let typing = doctor.next("typing").await;
    assert_eq!(typing["userId"], cast.sam.id);

    // "Seen by": Kim and the leader read Sam's message; Sam hears each, by handle.
    for reader in [&kim, &doctor] {
        let ack = reader
            .call(
                "conversation:read",
                json!({ "conversationId": group, "lastReadId": sent["id"] }),
            )
            .await;
        assert_eq!(ack["ok"], true);
    }
    let reads = sam.next_n("conversation:read", 2).await;
    let readers: Vec<&Value> = reads.iter().map(|r| &r["author"]["name"]).collect();
    assert!(readers.contains(&&json!("Kim Synthetic")));
    assert!(readers.contains(&&json!("Dr. Synthetic")));
    assert!(reads.iter().all(|r| r["lastReadId"] == sent["id"]));
    let kims_read = reads
        .iter()
        .find(|r| r["author"]["name"] == "Kim Synthetic")
        .unwrap();
    assert!(kims_read.get("userId").is_none(), "{kims_read}");

    // The page and the sidebar, as Kim gets them over HTTP.
    let page = server
        .page_text(&format!("/chat/{group}"), &cast.kim.cookie)
        .await;
    assert!(page.contains("Quiet Fox"));
    let (status, sidebar) = server
        .server_fn("conversations", &cast.kim.cookie, "")
        .await;
    assert_eq!(status, 200);
    let summary = sidebar["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == group)
        .expect("the group in Kim's sidebar")
        .clone();
    assert_eq!(summary["group"]["students"], 2);
    let (status, view) = server
        .server_fn("conversation", &cast.kim.cookie, &format!("id={group}"))
        .await;
    assert_eq!(status, 200);
    let export = server
        .http()
        .get(server.url("/account/export.json"))
        .header("cookie", &cast.kim.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(export.contains("Quiet Fox"));

    // Nothing Kim received (events, acks, pages, answers, the export) names Sam.
    let mut frames: Vec<Value> = kim.seen.iter().map(|(_, v)| v.clone()).collect();
    frames.extend(acks);
    frames.extend([summary, view, Value::String(page), Value::String(export)]);
    assert_nothing_of(&frames, &cast.sam, "sam-synthetic", "Sam Synthetic");
    assert!(!cast.ali.cookie.is_empty());
}

#[tokio::test]
async fn removal_cuts_delivery_at_once_and_a_removed_message_is_gone_for_everyone() {
    let server = TestServer::start().await;
    let cast = cast(&server).await;
    let mut doctor = Peer::connect(&server, &cast.doctor, None).await;
    let mut sam = Peer::connect(&server, &cast.sam, None).await;
    let mut kim = Peer::connect(&server, &cast.kim, None).await;
    let group = create(&doctor, "Grief").await;
    invite_and_join(&doctor, &mut sam, group, cast.sam.id, json!("Fox")).await;
    invite_and_join(&doctor, &mut kim, group, cast.kim.id, Value::Null).await;

    let unkind = say(&kim, group, "synthetic: something unkind").await;
    let ack = doctor
        .call(
            "message:remove",
            json!({ "conversationId": group, "messageId": unkind["id"] }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    for peer in [&mut sam, &mut kim, &mut doctor] {
        let removed = peer.next("message:removed").await;
        assert_eq!(removed["messageId"], unkind["id"]);
    }
    let db = server.db().await;
    let body = db
        .text(&format!(
            "SELECT body FROM messages WHERE id = {}",
            unkind["id"]
        ))
        .await;
    assert_eq!(body.as_deref(), Some(""), "the body is gone from storage");
    assert_eq!(
        db.number(&format!(
            "SELECT COUNT(*) FROM access_log WHERE action = 'moderation' AND conversation_id = {group}"
        ))
        .await,
        1,
        "the access record notes it"
    );
    let page = server
        .page_text(&format!("/chat/{group}"), &cast.sam.cookie)
        .await;
    assert!(!page.contains("something unkind"));

    let ack = doctor
        .call(
            "group:remove",
            json!({ "conversationId": group, "memberId": cast.kim.id }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(kim.next("group:removed").await["conversationId"], group);
    // Sam's next message goes to Sam and the leader, not Kim: the leader's one-to-one
    // message to Kim, sent after it, is the first message Kim receives.
    let after = say(&sam, group, "synthetic: after the removal").await;
    let direct = {
        let kim_direct = Peer::connect(&server, &cast.kim, None).await;
        let id = open_with(&kim_direct, cast.doctor.id).await;
        kim_direct.disconnect().await;
        id
    };
    let nudge = say(&doctor, direct, "synthetic: a word in private").await;
    let next = kim.next("message:new").await;
    assert_eq!(
        next["id"], nudge["id"],
        "nothing of the group came first: {next}"
    );
    assert!(kim.seen.iter().all(|(_, v)| v["id"] != after["id"]));
    assert_eq!(
        code(
            &kim.call(
                "message:send",
                json!({ "conversationId": group, "clientId": client_id(), "body": "hello?" }),
            )
            .await
        ),
        "conversation_not_found"
    );
    let (status, _) = server
        .server_fn("conversation", &cast.kim.cookie, &format!("id={group}"))
        .await;
    assert_eq!(status, 404);
    // The socket stays up.
    let still = say(&kim, direct, "synthetic: still connected").await;
    assert!(still["id"].as_i64().is_some());
}

#[tokio::test]
async fn a_joiner_sees_no_earlier_history_over_http_or_catch_up() {
    let server = TestServer::start().await;
    let cast = cast(&server).await;
    let doctor = Peer::connect(&server, &cast.doctor, None).await;
    let mut sam = Peer::connect(&server, &cast.sam, None).await;
    let group = create(&doctor, "First years").await;
    invite_and_join(&doctor, &mut sam, group, cast.sam.id, Value::Null).await;
    let early = say(&sam, group, "synthetic: before kim came").await;

    let mut kim = Peer::connect(&server, &cast.kim, None).await;
    invite_and_join(&doctor, &mut kim, group, cast.kim.id, Value::Null).await;
    kim.disconnect().await;
    let later = say(&sam, group, "synthetic: after kim came").await;

    let page = server
        .page_text(&format!("/chat/{group}"), &cast.kim.cookie)
        .await;
    assert!(page.contains("after kim came"));
    assert!(
        !page.contains("before kim came"),
        "never history from before joining"
    );
    // Catch-up from the very start replays in id order: the earlier message would come first.
    let mut back = Peer::connect(&server, &cast.kim, Some(0)).await;
    loop {
        let got = back.next("message:new").await;
        assert_ne!(got["id"], early["id"]);
        if got["id"] == later["id"] {
            break;
        }
    }
}

#[tokio::test]
async fn bad_group_input_gets_its_code_stores_nothing_and_keeps_the_socket() {
    let server = TestServer::start().await;
    let cast = cast(&server).await;
    let stranger = server.student_named("stranger-synthetic", "Stranger").await;
    let doctor = Peer::connect(&server, &cast.doctor, None).await;
    let mut sam = Peer::connect(&server, &cast.sam, None).await;
    let mut kim = Peer::connect(&server, &cast.kim, None).await;
    let group = create(&doctor, "Loneliness").await;
    invite_and_join(&doctor, &mut sam, group, cast.sam.id, json!("Fox")).await;
    let db = server.db().await;
    let people = format!("SELECT COUNT(*) FROM group_people WHERE conversation_id = {group}");
    let messages = format!("SELECT COUNT(*) FROM messages WHERE conversation_id = {group}");
    let (people_before, messages_before) = (db.number(&people).await, db.number(&messages).await);

    let invite = |who: i64| json!({ "conversationId": group, "studentId": who });
    assert_eq!(
        code(&doctor.call("group:invite", invite(stranger.id)).await),
        "not_your_student"
    );
    assert_eq!(
        code(&doctor.call("group:invite", invite(cast.doctor.id)).await),
        "not_your_student"
    );
    assert_eq!(
        code(&sam.call("group:invite", invite(cast.kim.id)).await),
        "not_leader"
    );
    assert_eq!(
        code(&doctor.call("group:invite", invite(cast.sam.id)).await),
        "already_invited"
    );
    assert_eq!(
        code(
            &sam.call("group:create", json!({ "name": "Mine", "description": "" }))
                .await
        ),
        "forbidden"
    );
    assert_eq!(
        code(
            &doctor
                .call(
                    "group:create",
                    json!({ "name": "Huge", "description": "", "memberLimit": 31 })
                )
                .await
        ),
        "invalid_group"
    );
    assert_eq!(
        code(&doctor.call("group:invite", json!([group, 1])).await),
        "invalid_payload"
    );

    // Aliases, with Kim invited.
    assert_eq!(
        doctor.call("group:invite", invite(cast.kim.id)).await["ok"],
        true
    );
    kim.next("group:invited").await;
    let answer = |alias: Value| json!({ "conversationId": group, "accept": true, "alias": alias });
    for (alias, expected) in [
        (json!(""), "invalid_alias"),
        (json!("x".repeat(33)), "invalid_alias"),
        (json!("<img src=x>"), "invalid_alias"),
        (json!("in\u{200B}visible"), "invalid_alias"),
        (json!("FOX"), "alias_taken"),
    ] {
        assert_eq!(
            code(&kim.call("group:answer", answer(alias.clone())).await),
            expected,
            "{alias}"
        );
    }
    // Moderation by a member, a group Kim is not in.
    assert_eq!(
        code(
            &sam.call(
                "group:remove",
                json!({ "conversationId": group, "memberId": cast.sam.id })
            )
            .await
        ),
        "not_leader"
    );
    assert_eq!(
        code(
            &kim.call(
                "message:send",
                json!({ "conversationId": group, "clientId": client_id(), "body": "x" })
            )
            .await
        ),
        "conversation_not_found"
    );
    // Closed: no more messages, invitations or acceptances.
    assert_eq!(
        doctor
            .call("group:close", json!({ "conversationId": group }))
            .await["ok"],
        true
    );
    assert_eq!(sam.next("group:closed").await["conversationId"], group);
    let closing_lines = db.number(&messages).await - messages_before;
    assert_eq!(closing_lines, 1, "only the closing line was stored");
    assert_eq!(
        code(
            &sam.call(
                "message:send",
                json!({ "conversationId": group, "clientId": client_id(), "body": "x" })
            )
            .await
        ),
        "group_closed"
    );
    assert_eq!(
        code(&kim.call("group:answer", answer(Value::Null)).await),
        "group_closed"
    );
    assert_eq!(
        code(&doctor.call("group:invite", invite(cast.ali.id)).await),
        "group_closed"
    );

    assert_eq!(
        db.number(&people).await,
        people_before + 1,
        "only Kim's invitation"
    );
    assert_eq!(db.number(&messages).await, messages_before + 1);
    // Every socket is still up.
    for peer in [&doctor, &sam, &kim] {
        let ack = peer
            .call("typing", json!({ "conversationId": 0, "typing": true }))
            .await;
        assert_eq!(code(&ack), "conversation_not_found");
    }
}

#[tokio::test]
async fn a_retry_a_plain_form_and_history_pages_work_in_a_group() {
    // Sixty messages in a row: above the per-user send limit's burst.
    let server = TestServer::start_with(&[
        ("HAVEN_SEND_RATE_PER_SEC", "1000"),
        ("HAVEN_SEND_BURST", "1000"),
    ])
    .await;
    let cast = cast(&server).await;
    let mut doctor = Peer::connect(&server, &cast.doctor, None).await;
    let mut sam = Peer::connect(&server, &cast.sam, None).await;
    let group = create(&doctor, "Paging").await;
    invite_and_join(&doctor, &mut sam, group, cast.sam.id, json!("Fox")).await;

    // A retry of a lost ack answers the stored message and delivers nothing again: the
    // next message the leader receives is the one after it.
    let id = client_id();
    let send = |body: &str| json!({ "conversationId": group, "clientId": id, "body": body });
    let first = sam.call("message:send", send("synthetic: once")).await;
    let again = sam.call("message:send", send("synthetic: once")).await;
    assert_eq!(first["message"]["id"], again["message"]["id"]);
    let next = say(&sam, group, "synthetic: twice").await;
    let mut texts = Vec::new();
    while texts.len() < 2 {
        let got = doctor.next("message:new").await;
        if got["kind"] == "text" {
            texts.push(got["id"].clone());
        }
    }
    assert_eq!(texts, [first["message"]["id"].clone(), next["id"].clone()]);

    // Without JavaScript: the composer's plain form posts into the group.
    let status = form_post(
        &server,
        "/api/form/post_message",
        &cast.sam.cookie,
        format!(
            "conversation_id={group}&client_id={}&body=synthetic%3A+from+a+form",
            client_id()
        ),
    )
    .await;
    assert!(status == 302 || status == 303, "{status}");
    let formed = loop {
        let got = doctor.next("message:new").await;
        if got["kind"] == "text" {
            break got;
        }
    };
    assert_eq!(formed["body"], "synthetic: from a form");
    assert_eq!(formed["author"]["name"], "Fox");

    // History pages: 60 more messages, the page holds the newest 50, the one before them
    // the rest, as the student sees them (handles, no ids).
    for i in 0..60 {
        say(&doctor, group, &format!("synthetic: {i}")).await;
    }
    let (status, newest) = server
        .server_fn("conversation", &cast.sam.cookie, &format!("id={group}"))
        .await;
    assert_eq!(status, 200);
    let newest = newest["messages"].as_array().unwrap().clone();
    assert_eq!(newest.len(), 50);
    let oldest = newest[0]["id"].as_i64().unwrap();
    let (_, older) = server
        .server_fn(
            "conversation",
            &cast.sam.cookie,
            &format!("id={group}&before={oldest}"),
        )
        .await;
    let older = older["messages"].as_array().unwrap();
    assert!(older.iter().all(|m| m["id"].as_i64().unwrap() < oldest));
    assert!(older.iter().any(|m| m["body"] == "synthetic: once"));
    assert!(older.iter().all(|m| m
        .get("senderId")
        .is_none_or(|s| s.is_null() || *s == cast.doctor.id)));
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn two_nodes_deliver_a_group_once_and_a_removal_holds_on_both() {
    let cluster = TestCluster::start(&[]).await;
    let (a, b) = (&cluster.a, &cluster.b);
    let cast = cast(a).await;
    let mut doctor = Peer::connect(a, &cast.doctor, None).await;
    let mut sam = Peer::connect(b, &cast.sam, None).await;
    let mut sam_a = Peer::connect(a, &cast.sam, None).await;
    let mut kim = Peer::connect(b, &cast.kim, None).await;
    let group = create(&doctor, "Across nodes").await;
    invite_and_join(&doctor, &mut sam, group, cast.sam.id, json!("Fox")).await;
    invite_and_join(&doctor, &mut kim, group, cast.kim.id, Value::Null).await;

    let first = say(&sam, group, "synthetic: from node b").await;
    let second = say(&doctor, group, "synthetic: from node a").await;
    for peer in [&mut doctor, &mut sam_a, &mut kim] {
        let mut texts = Vec::new();
        while texts.len() < 2 {
            let got = peer.next("message:new").await;
            if got["kind"] == "text" {
                texts.push(got["id"].clone());
            }
        }
        assert_eq!(
            texts,
            [first["id"].clone(), second["id"].clone()],
            "once each, in order"
        );
    }

    // Removed on node A's command; Kim is on node B.
    let ack = doctor
        .call(
            "group:remove",
            json!({ "conversationId": group, "memberId": cast.kim.id }),
        )
        .await;
    assert_eq!(ack["ok"], true);
    assert_eq!(kim.next("group:removed").await["conversationId"], group);
    let after = say(&sam_a, group, "synthetic: after removal").await;
    let kim_a = Peer::connect(a, &cast.kim, None).await;
    let direct = open_with(&kim_a, cast.doctor.id).await;
    let nudge = say(&doctor, direct, "synthetic: private word").await;
    let next = kim.next("message:new").await;
    assert_eq!(
        next["id"], nudge["id"],
        "nothing of the group first: {next}"
    );
    assert!(kim.seen.iter().all(|(_, v)| v["id"] != after["id"]));
    assert_eq!(
        code(
            &kim_a
                .call(
                    "message:send",
                    json!({ "conversationId": group, "clientId": client_id(), "body": "x" })
                )
                .await
        ),
        "conversation_not_found"
    );
}
