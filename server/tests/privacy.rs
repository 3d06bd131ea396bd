//! A student's privacy, tried from outside: every opening of a conversation's content is in
//! the access record (never a body), a student sees who opened theirs, downloads exactly
//! their own conversations, and can delete their account; the retention period is applied
//! by `haven purge`.

mod common;

use std::time::Duration;

use common::{form_post, open_with, say, select, Peer, TestServer, PASSWORD};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE, LOCATION};
use scraper::Html;
use serde_json::{json, Value};

/// `haven audit <args> --json`, parsed.
async fn audit(server: &TestServer, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit", "--json"];
    all.extend_from_slice(args);
    let (ok, out, err) = server.cli(&all, "").await;
    assert!(ok, "audit failed: {err}");
    serde_json::from_str::<Vec<Value>>(&out).expect("audit JSON")
}

/// The actions recorded for `user` (an id), in order.
fn actions_of(entries: &[Value], user: i64) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e["userId"] == user)
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A server function called as the WASM does, which must answer 200.
async fn server_fn(server: &TestServer, name: &str, cookie: &str, form: &str) -> Value {
    let (status, answer) = server.server_fn(name, cookie, form).await;
    assert_eq!(status, 200, "{name}: {answer}");
    answer
}

async fn get(server: &TestServer, path: &str, cookie: &str) -> reqwest::Response {
    server
        .http()
        .get(server.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_live_connection_is_one_record_that_covers_each_conversation_from_its_start() {
    let server = TestServer::start().await;
    let doctor = server.psychiatrist("dr.many").await;
    // Connected before anyone wrote: no conversation existed to receive.
    Peer::connect(&server, &doctor, None)
        .await
        .disconnect()
        .await;
    let mut conversations = Vec::new();
    for i in 0..3 {
        let student = server.student(&format!("many{i}")).await;
        let s = Peer::connect(&server, &student, None).await;
        conversations.push(open_with(&s, doctor.id).await);
    }
    for _ in 0..2 {
        Peer::connect(&server, &doctor, None)
            .await
            .disconnect()
            .await;
    }

    // Three connections, three rows: not one per conversation per connection.
    let db = server.db().await;
    let rows = db
        .number(&format!(
            "SELECT COUNT(*) FROM access_log WHERE user_id = {} AND action = 'socket'",
            doctor.id
        ))
        .await;
    assert_eq!(rows, 3);
    // Each conversation's record holds the two connections made since it began.
    for conversation in conversations {
        let entries = audit(&server, &["--conversation", &conversation.to_string()]).await;
        let connections = actions_of(&entries, doctor.id);
        assert_eq!(connections, ["socket", "socket"], "{entries:?}");
        assert!(entries.iter().all(|e| e["conversationId"] == conversation));
    }
}

#[tokio::test]
async fn every_opening_of_a_conversation_is_recorded_without_its_content() {
    let server = TestServer::start().await;
    let student = server.student("recorded").await;
    let doctor = server.psychiatrist("dr.record").await;
    let s = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&s, doctor.id).await;
    let first = say(&s, conversation, "a synthetic private line").await;

    // The psychiatrist's page load, a history fetch, a socket open.
    let page = server
        .get_page(&format!("/chat/{conversation}"), Some(&doctor.cookie))
        .await;
    assert_eq!(page.status(), 200);
    server_fn(
        &server,
        "conversation",
        &doctor.cookie,
        &format!(
            "id={conversation}&before={}",
            first["id"].as_i64().unwrap() + 1
        ),
    )
    .await;
    let d = Peer::connect(&server, &doctor, None).await;
    // The student's export.
    assert_eq!(
        get(&server, "/account/export.json", &student.cookie)
            .await
            .status(),
        200
    );

    let entries = audit(&server, &["--conversation", &conversation.to_string()]).await;
    let doctor_actions = actions_of(&entries, doctor.id);
    for action in ["page", "history", "socket"] {
        assert!(
            doctor_actions.iter().any(|a| a == action),
            "{action}: {entries:?}"
        );
    }
    assert!(actions_of(&entries, student.id)
        .iter()
        .any(|a| a == "export"));
    for entry in &entries {
        assert_eq!(entry["conversationId"], conversation);
        assert_eq!(entry["address"], "127.0.0.1", "{entry}");
        assert!(entry["at"].is_string());
    }
    let (_, text, _) = server
        .cli(
            &["audit", "--user", "dr.record", "--since", "2000-01-01"],
            "",
        )
        .await;
    assert!(text.lines().count() >= 3, "{text}");
    assert!(
        text.lines().all(|l| l.contains("dr.record (psychiatrist")),
        "{text}"
    );
    let (_, later, _) = server.cli(&["audit", "--since", "2999-01-01"], "").await;
    assert!(later.is_empty(), "{later}");
    for output in [text, serde_json::to_string(&entries).unwrap()] {
        assert!(
            !output.contains("synthetic private line"),
            "a body in the record"
        );
    }

    // Append-only, whoever asks.
    let db = server.db().await;
    assert!(db
        .execute("UPDATE access_log SET user_id = NULL")
        .await
        .is_err());
    assert!(db.execute("DELETE FROM access_log").await.is_err());
    if common::on_postgres() {
        assert!(db.execute("TRUNCATE access_log").await.is_err());
    }

    // The student sees who opened it (not from where); their own visits are not listed.
    let settings = server
        .get_page("/chat/settings", Some(&student.cookie))
        .await;
    let html = Html::parse_document(&settings.text().await.unwrap());
    let listed = select(&html, ".access-list li");
    // One opening (the page, the live connection) reads as one visit, in plain words and
    // without milliseconds.
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        listed[0].contains("Dr. Synthetic (psychiatrist) opened your conversation"),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .all(|l| !l.contains("connected to receive") && !l.contains('Z')),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .all(|l| !l.contains("127.0.0.1") && !l.contains("downloaded")),
        "{listed:?}"
    );
    d.disconnect().await;
}

#[tokio::test]
async fn a_student_downloads_exactly_their_own_conversations() {
    let server = TestServer::start().await;
    let student = server.student("exporter").await;
    let other = server.student("someone.else").await;
    let first = server.psychiatrist("dr.one").await;
    let second = server.psychiatrist("dr.two").await;
    let s = Peer::connect(&server, &student, None).await;
    let o = Peer::connect(&server, &other, None).await;
    let with_first = open_with(&s, first.id).await;
    let with_second = open_with(&s, second.id).await;
    let hostile = "<img src=x onerror=alert(1)> & \"quotes\"";
    say(&s, with_first, hostile).await;
    say(&s, with_second, "to the second one").await;
    let f = Peer::connect(&server, &first, None).await;
    say(&f, with_first, "a reply from the first").await;
    let others = open_with(&o, first.id).await;
    say(&o, others, "not the exporter's words").await;

    let res = get(&server, "/account/export.json", &student.cookie).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(res.headers()["cache-control"], "no-store");
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["account"]["username"], "exporter");
    let conversations = export["conversations"].as_array().unwrap();
    let mut ids: Vec<i64> = conversations
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    let mut expected = vec![with_first, with_second];
    expected.sort();
    assert_eq!(ids, expected);
    let lines: Vec<(String, String)> = conversations
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap().clone())
        .map(|m| {
            (
                m["from"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(lines.contains(&("you".into(), hostile.into())));
    assert!(lines.contains(&("them".into(), "a reply from the first".into())));
    assert!(lines
        .iter()
        .all(|(_, body)| body != "not the exporter's words"));

    // The readable file: the same lines, escaped.
    let res = get(&server, "/account/export.html", &student.cookie).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;"));
    assert!(!page.contains("<img"));
    assert!(!page.contains("not the exporter"));

    // Only a signed-in student.
    assert_eq!(
        get(&server, "/account/export.json", &first.cookie)
            .await
            .status(),
        403
    );
    let res = get(&server, "/account/export.json", "haven_session=nothing").await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()[LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login"));
}

#[tokio::test]
async fn deleting_an_account_erases_its_words_and_ends_every_session() {
    let server = TestServer::start().await;
    // `student` signs in twice: the registration's session and a second one.
    let student = server.student("leaving").await;
    let (_, _, second) = server.login("leaving", PASSWORD, None).await;
    let second = second.expect("second session");
    let doctor = server.psychiatrist("dr.stays").await;
    let s = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&s, doctor.id).await;
    say(&s, conversation, "synthetic words to erase").await;
    let d = Peer::connect(&server, &doctor, None).await;
    say(&d, conversation, "the psychiatrist's reply").await;
    let mut other_tab = Peer::connect(
        &server,
        &common::Account {
            cookie: second.clone(),
            id: student.id,
        },
        None,
    )
    .await;

    // A wrong password deletes nothing; a psychiatrist cannot delete their own this way.
    form_post(
        &server,
        "/api/form/delete_account",
        &student.cookie,
        "password=wrong".to_owned(),
    )
    .await;
    assert_eq!(server.me_status(&second).await, 200);
    form_post(
        &server,
        "/api/form/delete_account",
        &doctor.cookie,
        format!("password={PASSWORD}"),
    )
    .await;
    assert_eq!(server.me_status(&doctor.cookie).await, 200);

    let status = form_post(
        &server,
        "/api/form/delete_account",
        &student.cookie,
        format!("password={PASSWORD}"),
    )
    .await;
    assert_eq!(status, 302);
    for cookie in [&student.cookie, &second] {
        assert_eq!(server.me_status(cookie).await, 401, "every session ended");
    }
    assert!(
        other_tab.closed_within(Duration::from_secs(5)).await,
        "sockets closed"
    );
    let (status, _, _) = server.login("leaving", PASSWORD, None).await;
    assert_eq!(status, 401, "cannot sign in again");

    // The psychiatrist sees the conversation with the words gone, their reply kept.
    let page = server
        .page_text(&format!("/chat/{conversation}"), &doctor.cookie)
        .await;
    assert!(page.contains("Deleted account"));
    assert!(page.contains("Message deleted with the account"));
    assert!(
        page.contains("the psychiatrist&#x27;s reply") || page.contains("the psychiatrist's reply")
    );
    assert!(!page.contains("synthetic words to erase"));
    let db = server.db().await;
    let left = db
        .number("SELECT COUNT(*) FROM messages WHERE body LIKE '%synthetic words%'")
        .await;
    assert_eq!(left, 0, "the body is gone from the database");
    let name = db
        .text(&format!(
            "SELECT username FROM users WHERE id = {}",
            student.id
        ))
        .await
        .expect("the row stays");
    assert!(!name.contains("leaving"));
    // The name is free again; the access record stays.
    server.register_student("leaving").await;
    assert!(
        !audit(&server, &["--conversation", &conversation.to_string()])
            .await
            .is_empty()
    );
    d.disconnect().await;
}

#[tokio::test]
async fn purge_applies_the_retention_period() {
    let server = TestServer::start().await;
    let student = server.student("old.timer").await;
    let gone = server.student("long.gone").await;
    let doctor = server.psychiatrist("dr.keeps").await;
    let s = Peer::connect(&server, &student, None).await;
    let g = Peer::connect(&server, &gone, None).await;
    let kept = open_with(&s, doctor.id).await;
    say(&s, kept, "an old line").await;
    say(&s, kept, "a recent line").await;
    let erased = open_with(&g, doctor.id).await;
    say(&g, erased, "from an account deleted later").await;
    form_post(
        &server,
        "/api/form/delete_account",
        &gone.cookie,
        format!("password={PASSWORD}"),
    )
    .await;
    // Two years pass for some lines.
    let db = server.db().await;
    db.execute(
        "UPDATE messages SET created_at = '2020-01-01T00:00:00.000Z' WHERE body IN ('an old line', '') ",
    )
    .await
    .unwrap();

    let (ok, out, err) = server
        .cli(&["purge", "--older-than", "365d", "--dry-run"], "")
        .await;
    assert!(ok, "{err}");
    assert!(out.starts_with("2 messages"), "{out}");
    assert!(
        out.contains("1 conversations and 1 deleted accounts"),
        "{out}"
    );
    let count = |sql: String| {
        let db = &db;
        async move { db.number(&sql).await }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM messages".into()).await,
        3,
        "a dry run deletes nothing"
    );

    let (ok, out, _) = server.cli(&["purge", "--older-than", "365d"], "").await;
    assert!(ok && out.trim_end().ends_with(": deleted"), "{out}");
    assert_eq!(count("SELECT COUNT(*) FROM messages".into()).await, 1);
    assert_eq!(
        db.text("SELECT body FROM messages").await.as_deref(),
        Some("a recent line")
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM conversations WHERE id = {erased}"
        ))
        .await,
        0
    );
    assert_eq!(
        count(format!("SELECT COUNT(*) FROM users WHERE id = {}", gone.id)).await,
        0
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM conversations WHERE id = {kept}"
        ))
        .await,
        1
    );

    let (ok, _, err) = server.cli(&["purge", "--older-than", "0d"], "").await;
    assert!(!ok && err.contains("number of days"), "{err}");
}

#[tokio::test]
async fn mark_unread_and_handled_reach_every_tab_and_keep_seen() {
    let server = TestServer::start().await;
    let student = server.student("marked").await;
    let doctor = server.psychiatrist("dr.marks").await;
    let s = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&s, doctor.id).await;
    let sent = say(&s, conversation, "hello there").await;
    let d = Peer::connect(&server, &doctor, None).await;
    let mut other_tab = Peer::connect(&server, &doctor, None).await;
    d.call(
        "conversation:read",
        json!({ "conversationId": conversation, "lastReadId": sent["id"] }),
    )
    .await;
    let unread = |list: &Value| list["conversations"][0]["unread"].as_i64().unwrap();
    assert_eq!(
        unread(&server_fn(&server, "conversations", &doctor.cookie, "").await),
        0
    );

    let form = format!("conversation_id={conversation}");
    assert_eq!(
        form_post(
            &server,
            "/api/form/mark_unread",
            &doctor.cookie,
            form.clone()
        )
        .await,
        302
    );
    let marked = other_tab.next("conversation:marked").await;
    assert_eq!(
        marked,
        json!({ "conversationId": conversation, "mark": "unread" })
    );
    assert_eq!(
        unread(&server_fn(&server, "conversations", &doctor.cookie, "").await),
        1
    );
    // The student still sees "Seen".
    let view = server_fn(
        &server,
        "conversation",
        &student.cookie,
        &format!("id={conversation}"),
    )
    .await;
    assert_eq!(view["peerLastReadId"], sent["id"]);
    // Reading it again clears it.
    d.call(
        "conversation:read",
        json!({ "conversationId": conversation, "lastReadId": sent["id"] }),
    )
    .await;
    assert_eq!(
        unread(&server_fn(&server, "conversations", &doctor.cookie, "").await),
        0
    );

    form_post(&server, "/api/form/mark_handled", &doctor.cookie, form).await;
    let marked = other_tab.next("conversation:marked").await;
    assert_eq!(marked["mark"], "handled");
}

#[tokio::test]
async fn the_header_says_who_the_student_is_and_a_new_conversation_what_happens_next() {
    let server = TestServer::start().await;
    let student = server.student("newcomer").await;
    let doctor = server.psychiatrist("dr.facts").await;
    let other = server.psychiatrist("dr.other").await;

    // The psychiatrist's home before anyone wrote.
    let home = server.page_text("/chat", &doctor.cookie).await;
    assert!(home.contains("No student has written to you yet"), "{home}");

    let s = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&s, doctor.id).await;
    open_with(&s, other.id).await;
    let page = server
        .page_text(&format!("/chat/{conversation}"), &student.cookie)
        .await;
    let html = Html::parse_document(&page);
    let intro = select(&html, ".first-message").concat();
    assert!(
        intro.contains("Only Dr. Synthetic reads what you write here"),
        "{intro}"
    );
    assert!(intro.contains("not for emergencies"), "{intro}");

    say(&s, conversation, "first words").await;
    let view = server_fn(
        &server,
        "conversation",
        &doctor.cookie,
        &format!("id={conversation}"),
    )
    .await;
    assert_eq!(view["peer"]["student"]["conversations"], 2);
    assert!(view["peer"]["student"]["writingSince"].is_string());
    let page = server
        .page_text(&format!("/chat/{conversation}"), &doctor.cookie)
        .await;
    let about = select(&Html::parse_document(&page), ".about-student").concat();
    assert!(
        about.contains("Writing since") && about.contains("2 conversations in Haven"),
        "{about}"
    );
    let home = server.page_text("/chat", &doctor.cookie).await;
    assert!(home.contains("1 student is awaiting a reply"), "{home}");
}
