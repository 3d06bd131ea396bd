//! Bad input costs nobody but its sender, and is answered as a client error: control
//! characters are refused before the message writer (whose batches mix senders), every
//! server function's refusal has the status its code means, and a payload that is not a
//! JSON object is `invalid_payload` on every event. Run on SQLite and on PostgreSQL.

mod common;

use common::{client_id, form_post, Account, Peer, TestServer};
use futures_util::future::join_all;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, RETRY_AFTER};
use serde_json::{json, Value};

async fn send(peer: &Peer, conversation: i64, body: String) -> Value {
    peer.call(
        "message:send",
        json!({ "conversationId": conversation, "clientId": client_id(), "body": body }),
    )
    .await
}

#[tokio::test]
async fn one_student_sending_nul_bytes_fails_nobody_else() {
    let server = TestServer::start().await;
    let doctor = server.psychiatrist("dr.batch").await;
    let mut p = Peer::connect(&server, &doctor, None).await;
    let mut students = Vec::new();
    for i in 0..4 {
        let account = server.student(&format!("batch{i}")).await;
        let peer = Peer::connect(&server, &account, None).await;
        let conversation = common::open_with(&peer, doctor.id).await;
        students.push((peer, conversation));
    }

    let mut ordinary = 0;
    for round in 0..5 {
        // The four students at once, so that the writer's batches mix the senders. Each
        // student's own sends go one after another: rust_socketio mixes up concurrent acks
        // of one client (it removes answered acks by shifting indices).
        let rounds = students
            .iter()
            .enumerate()
            .map(|(i, (peer, conversation))| async move {
                let mut acks = Vec::new();
                if i == 0 {
                    acks.push((
                        false,
                        send(peer, *conversation, "bad\u{0}body".into()).await,
                    ));
                }
                for k in 0..3 {
                    let body = format!("round {round}, message {k} of student {i}");
                    acks.push((true, send(peer, *conversation, body).await));
                }
                acks
            });
        for (fine, ack) in join_all(rounds).await.into_iter().flatten() {
            if fine {
                assert_eq!(ack["ok"], true, "an ordinary message was refused: {ack}");
                ordinary += 1;
            } else {
                assert_eq!(ack["ok"], false, "{ack}");
                assert_eq!(ack["error"]["code"], "invalid_body", "{ack}");
                let said = ack["error"]["message"].as_str().unwrap();
                assert!(said.contains("U+0000") && !said.contains("bad"), "{said}");
            }
        }
    }
    assert_eq!(ordinary, 60);

    // The psychiatrist received every ordinary message and no NUL.
    let mut bodies = Vec::new();
    while bodies.len() < 60 {
        let message = p.next("message:new").await;
        if message["senderId"].is_i64() {
            bodies.push(message["body"].as_str().unwrap().to_owned());
        }
    }
    assert!(bodies.iter().all(|b| !b.contains('\0')));
    let db = server.db().await;
    assert_eq!(
        db.number("SELECT COUNT(*) FROM messages WHERE sender_id IS NOT NULL")
            .await,
        60,
        "all ordinary messages stored, nothing else"
    );
}

#[tokio::test]
async fn control_characters_are_refused_on_the_form_path_too() {
    let (server, student, _, _peer, conversation) =
        common::student_in_conversation("former", "dr.form").await;
    let post = |body: &str, accept: &'static str| {
        let form = format!(
            "conversation_id={conversation}&client_id={}&body={}",
            client_id(),
            urlencode(body)
        );
        server
            .http()
            .post(server.url("/api/form/post_message"))
            .header(COOKIE, &student.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, accept)
            .body(form)
            .send()
    };
    // The page's own call (JSON): a client error with the code.
    let res = post("bad\u{0}body", "application/json").await.unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalid_body");
    // A plain form (no JavaScript) goes back to its page, which shows the text again.
    let res = post("escape \u{1b}[2J", "text/html").await.unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/chat/{conversation}?unsent=")),
        "{location}"
    );
    // A textarea's CRLF line breaks are line breaks, not refused characters.
    let res = post("two\r\nlines", "application/json").await.unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let db = server.db().await;
    assert_eq!(
        db.text("SELECT body FROM messages WHERE sender_id IS NOT NULL")
            .await
            .as_deref(),
        Some("two\nlines")
    );
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn server_function_errors_answer_the_status_their_code_means() {
    let server = TestServer::start().await;
    let student = server.student("asker").await;
    let other = server.student("bystander").await;
    let doctor = server.psychiatrist("dr.status").await;
    let peer = Peer::connect(&server, &other, None).await;
    let theirs = common::open_with(&peer, doctor.id).await;
    let cases: Vec<(&str, &Account, String, u16, &str)> = vec![
        (
            "conversation",
            &student,
            format!("id={theirs}"),
            404,
            "conversation_not_found",
        ),
        (
            "post_message",
            &student,
            format!("conversation_id={theirs}&client_id={}&body=hi", client_id()),
            404,
            "conversation_not_found",
        ),
        (
            "conversation",
            &student,
            "id=not-a-number".into(),
            400,
            "invalid_arguments",
        ),
        (
            "conversation",
            &other,
            format!("id={theirs}&before=abc"),
            400,
            "invalid_arguments",
        ),
        (
            "conversation",
            &other,
            format!("id={theirs}&before=1e3"),
            400,
            "invalid_arguments",
        ),
        (
            "conversation",
            &other,
            format!("id={theirs}&before=99999999999999999999"),
            400,
            "invalid_arguments",
        ),
        (
            "mark_handled",
            &other,
            format!("conversation_id={theirs}"),
            403,
            "forbidden",
        ),
        (
            "save_availability",
            &doctor,
            "mon_start=09:00".into(),
            400,
            "invalid_arguments",
        ),
        (
            "start_conversation",
            &student,
            "peer_id=999999".into(),
            404,
            "user_not_found",
        ),
        (
            "post_message",
            &other,
            format!(
                "conversation_id={theirs}&client_id={}&body=%20",
                client_id()
            ),
            422,
            "empty_body",
        ),
        (
            "post_message",
            &other,
            format!("conversation_id={theirs}&client_id=nope&body=hi"),
            422,
            "invalid_client_id",
        ),
    ];
    for (name, who, form, status, code) in cases {
        let (got, body) = server.server_fn(name, &who.cookie, &form).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{name} {form}: {body}"
        );
    }
    // Signed out: 401.
    let (got, _) = server
        .server_fn("conversations", "haven_session=forged", "")
        .await;
    assert_eq!(got, 401);

    // Too many attempts: 429 with Retry-After.
    let mut limited = None;
    for _ in 0..50 {
        let res = server
            .http()
            .post(server.url("/api/form/login"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("role=student&username=asker&password=wrong-password")
            .send()
            .await
            .unwrap();
        match res.status().as_u16() {
            401 => continue,
            429 => {
                limited = Some(res);
                break;
            }
            other => panic!("sign-in answered {other}"),
        }
    }
    let limited = limited.expect("sign-in is throttled");
    let wait: u64 = limited.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);

    // A plain form still goes back to its page (302), with the error shown there.
    let status = form_post(
        &server,
        "/api/form/mark_handled",
        &other.cookie,
        format!("conversation_id={theirs}"),
    )
    .await;
    assert_eq!(status, 302);
}

#[tokio::test]
async fn a_payload_that_is_not_an_object_is_invalid_on_every_event() {
    let (server, _, doctor, peer, conversation) =
        common::student_in_conversation("arrays", "dr.arrays").await;
    let uuid = client_id();
    for (event, payload) in [
        ("message:send", json!([conversation, uuid, "x"])),
        ("conversation:open", json!([doctor.id])),
        ("typing", json!([conversation, true])),
        ("conversation:read", json!([conversation, 1])),
        ("message:send", json!("just a string")),
        ("typing", json!(7)),
    ] {
        let ack = peer.call(event, payload.clone()).await;
        assert_eq!(ack["ok"], false, "{event} {payload}: {ack}");
        assert_eq!(
            ack["error"]["code"], "invalid_payload",
            "{event} {payload}: {ack}"
        );
    }
    let db = server.db().await;
    assert_eq!(
        db.number("SELECT COUNT(*) FROM messages").await,
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn a_username_with_a_nul_is_an_unknown_account_not_a_server_failure() {
    // On PostgreSQL the lookup itself failed (text cannot hold NUL): a 500 for a typo.
    let server = TestServer::start().await;
    let (status, _, _) = server
        .login("bad\u{0}name", "any-password-at-all", None)
        .await;
    assert_eq!(status, 401);
    let res = server
        .http()
        .post(server.url("/api/auth/recover"))
        .json(&json!({
            "username": "bad\u{0}name",
            "recoveryCode": "7K3M-Q9XD-2F8H-WN4T-B6CJ",
            "newPassword": "a-new-password-1",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_recovery_code"
    );
    let res = server.register("bad\u{0}name").await;
    assert_eq!(res.status(), 422);
}
