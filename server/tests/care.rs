//! Haven's duty of care, tried as a student would: where to turn in a crisis is on every
//! screen, in the server's HTML (so without JavaScript too).

mod common;

use common::{form_post, open_with, say, select, Peer, TestServer};
use scraper::{Html, Selector};
use serde_json::json;

fn attrs(html: &Html, css: &str, name: &str) -> Vec<String> {
    let selector = Selector::parse(css).expect("selector");
    html.select(&selector)
        .filter_map(|e| e.value().attr(name).map(str::to_owned))
        .collect()
}

/// The short notice: not for emergencies, the urgent lines as `tel:` links, and the way to
/// the full list.
fn assert_crisis_notice(page: &str, path: &str) {
    let html = Html::parse_document(page);
    let notice = select(&html, "aside.crisis[aria-label='Urgent help']").concat();
    assert!(
        notice.contains("Not for emergencies"),
        "{path}: notice missing: {notice:?}"
    );
    assert!(notice.contains("Samaritans"), "{path}: {notice}");
    let links = attrs(&html, "aside.crisis a", "href");
    assert!(links.iter().any(|l| l == "tel:999"), "{path}: {links:?}");
    assert!(links.iter().any(|l| l == "/help"), "{path}: {links:?}");
}

#[tokio::test]
async fn the_crisis_notice_is_on_every_screen_in_the_servers_html() {
    let server = TestServer::start().await;
    for path in ["/", "/login/student", "/login/psychiatrist", "/register"] {
        let res = server.get_page(path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_crisis_notice(&res.text().await.unwrap(), path);
    }

    let student = server.student("sam").await;
    let doctor = server.psychiatrist("dr.hours").await;
    let s = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&s, doctor.id).await;
    let screens = [
        (&student, "/chat".to_owned()),
        (&student, format!("/chat/{conversation}")),
        (&doctor, "/chat".to_owned()),
        (&doctor, format!("/chat/{conversation}")),
    ];
    for (who, path) in screens {
        let res = server.get_page(&path, Some(&who.cookie)).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_crisis_notice(&res.text().await.unwrap(), &path);
    }
}

#[tokio::test]
async fn the_help_page_lists_every_configured_resource() {
    let server = TestServer::start().await;
    let page = server.get_page("/help", None).await.text().await.unwrap();
    let html = Html::parse_document(&page);
    let names = select(&html, ".crisis-list h2");
    assert_eq!(
        names,
        [
            "Emergency services",
            "Samaritans",
            "Shout crisis text line",
            "Campus counselling service",
            "Campus security (out of hours)"
        ]
    );
    let text = select(&html, ".crisis-list").concat();
    assert!(text.contains("Text SHOUT to 85258"), "{text}");
    assert!(text.contains("Mon–Fri 9:00–17:00"), "{text}");
    let links = attrs(&html, ".crisis-list a", "href");
    assert!(links.contains(&"tel:+442079460000".to_owned()), "{links:?}");
    assert!(
        links.contains(&"https://www.samaritans.org/".to_owned()),
        "{links:?}"
    );
}

#[tokio::test]
async fn a_malformed_crisis_resources_file_stops_the_server_at_start() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("resources.toml");
    std::fs::write(
        &file,
        "[[resource]]\nname = \"Line\"\nhours = \"24/7\"\nurgent = true\nlink = \"javascript:alert(1)\"\n",
    )
    .unwrap();
    let serve = ["serve", "--addr", "127.0.0.1:0"];
    let env = [("HAVEN_CRISIS_RESOURCES", file.to_str().unwrap())];
    let (ok, _, err) = server.cli_with_env(&serve, "", &env).await;
    assert!(!ok, "refused to start");
    assert!(
        err.contains("resources.toml") && err.contains("https://"),
        "{err}"
    );
}

/// Today's weekday in UTC, Monday = 0 (1970-01-01 was a Thursday).
fn weekday_today() -> usize {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 86_400;
    ((days + 3) % 7) as usize
}

const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The availability form as a browser posts it: `hours` per weekday, a leave, intake.
fn availability_form(
    hours: &[(usize, &str, &str)],
    back_on: &str,
    note: &str,
    accepting: bool,
) -> String {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (i, key) in DAY_KEYS.iter().enumerate() {
        let (start, end) = hours
            .iter()
            .find(|(d, _, _)| *d == i)
            .map(|(_, s, e)| (s.to_string(), e.to_string()))
            .unwrap_or_default();
        fields.push((format!("{key}_start"), start));
        fields.push((format!("{key}_end"), end));
    }
    fields.push(("back_on".into(), back_on.into()));
    fields.push(("away_note".into(), note.into()));
    if accepting {
        fields.push(("accepting_new".into(), "on".into()));
    }
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+").replace(':', "%3A")))
        .collect::<Vec<_>>()
        .join("&")
}

async fn save_availability(server: &TestServer, cookie: &str, form: String) -> u16 {
    form_post(server, "/api/form/save_availability", cookie, form).await
}

/// What a student's directory says of the (one) psychiatrist.
async fn directory_says(server: &TestServer, cookie: &str) -> String {
    let page = server.page_text("/chat", cookie).await;
    let html = Html::parse_document(&page);
    select(&html, ".person").concat()
}

#[tokio::test]
async fn office_hours_and_leave_change_what_students_see() {
    let server = TestServer::start_with(&[("HAVEN_TIME_ZONE", "UTC")]).await;
    let student = server.student("sam").await;
    let doctor = server.psychiatrist("dr.hours").await;
    assert!(directory_says(&server, &student.cookie)
        .await
        .contains("No office hours set"));

    // In hours: all of today and tomorrow (so midnight cannot end them mid-test).
    let today = weekday_today();
    let hours = [
        (today, "00:00", "00:00"),
        ((today + 1) % 7, "00:00", "00:00"),
    ];
    let status = save_availability(
        &server,
        &doctor.cookie,
        availability_form(&hours, "", "", true),
    )
    .await;
    assert!(status < 400, "saved: {status}");
    let says = directory_says(&server, &student.cookie).await;
    assert!(says.contains("In office hours until"), "{says}");

    // Out of hours: only three days from now.
    let later = (today + 3) % 7;
    let hours = [(later, "10:00", "11:00")];
    save_availability(
        &server,
        &doctor.cookie,
        availability_form(&hours, "", "", true),
    )
    .await;
    let says = directory_says(&server, &student.cookie).await;
    assert!(
        says.contains("Out of office hours; next available"),
        "{says}"
    );
    assert!(says.contains("at 10:00"), "{says}");

    // Away, with a note, and paused for new students.
    let back_on = "2099-12-02";
    save_availability(
        &server,
        &doctor.cookie,
        availability_form(&hours, back_on, "On leave <b>until</b> December", false),
    )
    .await;
    let says = directory_says(&server, &student.cookie).await;
    assert!(
        says.contains("Away, back on Wednesday 2 December"),
        "{says}"
    );
    assert!(
        says.contains("On leave <b>until</b> December"),
        "the note is text: {says}"
    );
    assert!(says.contains("Not taking new students"), "{says}");
    let s = Peer::connect(&server, &student, None).await;
    let ack = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    assert_eq!(ack["error"]["code"], "not_accepting_new", "{ack}");

    // A wrong form changes nothing.
    let bad = availability_form(&[(today, "17:00", "09:00")], "", "", true);
    save_availability(&server, &doctor.cookie, bad).await;
    let says = directory_says(&server, &student.cookie).await;
    assert!(says.contains("Away, back on"), "unchanged: {says}");
}

#[tokio::test]
async fn usually_replies_within_comes_from_replies_as_they_are_stored() {
    let server = TestServer::start_with(&[("HAVEN_TIME_ZONE", "UTC")]).await;
    let doctor = server.psychiatrist("dr.replies").await;
    let viewer = server.student("viewer").await;
    // Five students each asked and were answered at once.
    for i in 0..5 {
        let student = server.student(&format!("writer{i}")).await;
        let s = Peer::connect(&server, &student, None).await;
        let conversation = open_with(&s, doctor.id).await;
        let d = Peer::connect(&server, &doctor, None).await;
        for (peer, body) in [(&s, "question"), (&d, "answer")] {
            say(peer, conversation, body).await;
        }
    }
    let says = directory_says(&server, &viewer.cookie).await;
    assert!(says.contains("Usually replies within an hour"), "{says}");
}

#[tokio::test]
async fn a_reply_counts_from_the_first_unanswered_message_and_old_replies_drop_out() {
    let server = TestServer::start_with(&[("HAVEN_TIME_ZONE", "UTC")]).await;
    let doctor = server.psychiatrist("dr.history").await;
    let viewer = server.student("viewer").await;
    let db = server.db().await;
    let now = app::protocol::Timestamp::now();
    let hours_ago = |h: f64| now.plus_millis(-(h * 3_600_000.0) as i64);
    for i in 0..5 {
        let student = server.student(&format!("asker{i}")).await;
        let conversation = db.insert_conversation(student.id, doctor.id).await;
        // Forty days ago: answered after 30 hours, outside the month that counts.
        db.insert_message(
            conversation,
            student.id,
            "old question",
            hours_ago(960.0 + 30.0),
        )
        .await;
        db.insert_message(conversation, doctor.id, "old answer", hours_ago(960.0))
            .await;
        // This week: two questions, answered 1 h 1 min after the first.
        db.insert_message(conversation, student.id, "question", hours_ago(3.0))
            .await;
        db.insert_message(conversation, student.id, "more", hours_ago(2.5))
            .await;
        db.insert_message(
            conversation,
            doctor.id,
            "answer",
            hours_ago(1.0 - 1.0 / 60.0),
        )
        .await;
    }
    let says = directory_says(&server, &viewer.cookie).await;
    assert!(says.contains("Usually replies within 3 hours"), "{says}");
}

/// The next `message:new` events of `peer`, which must come, as (kind, body) pairs: a
/// notice where none was due shows up in the place of the message expected next. (That no
/// notice comes at all when none is due is the domain's test, `tests/domain.rs`.)
async fn next_kinds(peer: &mut Peer, n: usize) -> Vec<(String, String)> {
    peer.next_n("message:new", n)
        .await
        .into_iter()
        .map(|m| {
            let kind = m["kind"].as_str().unwrap_or("?").to_owned();
            (kind, m["body"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn a_student_writing_while_their_psychiatrist_is_away_gets_one_notice_in_every_tab() {
    let server = TestServer::start_with(&[("HAVEN_TIME_ZONE", "UTC")]).await;
    let student = server.student("late.night").await;
    let doctor = server.psychiatrist("dr.away").await;
    let mut tab1 = Peer::connect(&server, &student, None).await;
    let mut tab2 = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&tab1, doctor.id).await;

    // No office hours set: nothing was promised, no notice (the next event after it is
    // the next message, below).
    say(&tab1, conversation, "hello").await;

    save_availability(
        &server,
        &doctor.cookie,
        availability_form(&[], "2099-12-02", "", true),
    )
    .await;
    let sent = say(&tab1, conversation, "I don't feel safe tonight").await;
    for tab in [&mut tab1, &mut tab2] {
        let events = tab.next_n("message:new", 3).await;
        let kinds: Vec<&str> = events.iter().filter_map(|m| m["kind"].as_str()).collect();
        assert_eq!(
            kinds,
            ["text", "text", "notice"],
            "one notice in each tab: {events:?}"
        );
        assert_eq!(events[1], sent);
        let notice = &events[2];
        assert_eq!(
            notice["senderId"],
            serde_json::Value::Null,
            "nobody's words"
        );
        assert!(
            notice["id"].as_i64() > sent["id"].as_i64(),
            "after the message"
        );
        let body = notice["body"].as_str().unwrap();
        assert!(
            body.contains("away, back on Wednesday 2 December"),
            "{body}"
        );
        assert!(body.contains("call 999 (Emergency services)"), "{body}");
        assert!(body.contains("/help"), "{body}");
    }

    // Triage shows the student's words, not the notice that followed them.
    let list = server.page_text("/chat", &doctor.cookie).await;
    assert_eq!(
        select(&Html::parse_document(&list), ".conversation .preview"),
        ["I don't feel safe tonight"]
    );

    // Not repeated on every message of the same absence: the next event is the next
    // message.
    say(&tab2, conversation, "I keep thinking about it").await;

    // Stored like a message: the page shows it once, set apart, after a reload too; the
    // psychiatrist's unread count does not include it.
    let page = server
        .page_text(&format!("/chat/{conversation}"), &student.cookie)
        .await;
    let html = Html::parse_document(&page);
    let shown = select(&html, "li.message.notice");
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].contains("Automatic notice from Haven"),
        "{}",
        shown[0]
    );
    // Its crisis lines are links in the server's HTML: one tap, even before the app loads.
    let links = |css: &str| {
        let selector = scraper::Selector::parse(css).unwrap();
        html.select(&selector).count()
    };
    assert_eq!(links(r#"li.message.notice a[href="tel:999"]"#), 1, "{page}");
    assert_eq!(links(r#"li.message.notice a[href="/help"]"#), 1);
    let list = server.page_text("/chat", &doctor.cookie).await;
    let html = Html::parse_document(&list);
    assert_eq!(select(&html, ".conversation .unread"), ["3"]);

    // The psychiatrist writing back triggers nothing either.
    let d = Peer::connect(&server, &doctor, None).await;
    say(&d, conversation, "I'm here").await;
    say(&tab1, conversation, "thank you").await;
    assert_eq!(
        next_kinds(&mut tab1, 3).await,
        [
            ("text".into(), "I keep thinking about it".into()),
            ("text".into(), "I'm here".into()),
            ("text".into(), "thank you".into()),
        ]
    );
}

#[tokio::test]
async fn outside_office_hours_the_notice_says_when_they_are_next_available() {
    let server = TestServer::start_with(&[("HAVEN_TIME_ZONE", "UTC")]).await;
    let student = server.student("evening").await;
    let doctor = server.psychiatrist("dr.nine.to.five").await;
    let later = (weekday_today() + 3) % 7;
    save_availability(
        &server,
        &doctor.cookie,
        availability_form(&[(later, "10:00", "11:00")], "", "", true),
    )
    .await;
    let mut s = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&s, doctor.id).await;
    say(&s, conversation, "is anyone there?").await;
    let found = next_kinds(&mut s, 2).await;
    assert_eq!(found[0].0, "text");
    assert_eq!(found[1].0, "notice", "{found:?}");
    let body = &found[1].1;
    assert!(body.contains("outside their office hours"), "{body}");
    assert!(
        body.contains("Next available:") && body.contains("at 10:00 (UTC)"),
        "{body}"
    );
}

/// The psychiatrist's sidebar entries that await a reply.
async fn awaiting(server: &TestServer, cookie: &str) -> Vec<String> {
    let page = server.page_text("/chat", cookie).await;
    select(&Html::parse_document(&page), ".conversation .awaiting")
}

#[tokio::test]
async fn awaiting_reply_survives_opening_and_clears_on_reply_or_when_handled() {
    let server = TestServer::start().await;
    let student = server.student("waiting").await;
    let doctor = server.psychiatrist("dr.triage").await;
    let s = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&s, doctor.id).await;
    let sent = say(&s, conversation, "could we talk?").await;
    assert_eq!(awaiting(&server, &doctor.cookie).await.len(), 1);

    // Opening and reading it is not answering it.
    let page = server
        .page_text(&format!("/chat/{conversation}"), &doctor.cookie)
        .await;
    assert_eq!(
        select(&Html::parse_document(&page), ".triage").len(),
        1,
        "header shows it"
    );
    let d = Peer::connect(&server, &doctor, None).await;
    let read = d
        .call(
            "conversation:read",
            json!({ "conversationId": conversation, "lastReadId": sent["id"] }),
        )
        .await;
    assert_eq!(read["ok"], true, "{read}");
    assert_eq!(awaiting(&server, &doctor.cookie).await.len(), 1);
    // The student never sees it.
    assert!(awaiting(&server, &student.cookie).await.is_empty());

    // A reply answers it; the student writing again starts it again.
    say(&d, conversation, "of course").await;
    assert!(awaiting(&server, &doctor.cookie).await.is_empty());
    say(&s, conversation, "thank you").await;
    assert_eq!(awaiting(&server, &doctor.cookie).await.len(), 1);

    // Marked handled (a plain form post) clears it without a reply; only the
    // psychiatrist may.
    let form = format!("conversation_id={conversation}");
    form_post(
        &server,
        "/api/form/mark_handled",
        &student.cookie,
        form.clone(),
    )
    .await;
    assert_eq!(awaiting(&server, &doctor.cookie).await.len(), 1);
    form_post(&server, "/api/form/mark_handled", &doctor.cookie, form).await;
    assert!(awaiting(&server, &doctor.cookie).await.is_empty());
}

#[tokio::test]
async fn without_office_hours_a_student_is_told_there_is_no_set_time() {
    let server = TestServer::start().await;
    let student = server.student("expecting").await;
    server.psychiatrist("dr.nohours").await;
    let page = server.page_text("/chat", &student.cookie).await;
    let html = Html::parse_document(&page);
    let lines = select(&html, ".person .reply-time");
    assert_eq!(lines.len(), 1, "{page}");
    assert!(lines[0].contains("No set time for a reply"), "{lines:?}");
}

#[tokio::test]
async fn an_empty_conversation_offers_nothing_to_mark_unread() {
    let (server, student, _, peer, conversation) =
        common::student_in_conversation("empty.handed", "dr.empty").await;
    let marks = |page: String| select(&Html::parse_document(&page), "form.mark-unread").len();
    let path = format!("/chat/{conversation}");
    assert_eq!(marks(server.page_text(&path, &student.cookie).await), 0);
    say(&peer, conversation, "now there is something").await;
    assert_eq!(marks(server.page_text(&path, &student.cookie).await), 1);
}
