//! A psychiatrist with more conversations than a page: the sidebar comes 50 at a time, in
//! the order chosen, with nothing repeated or lost between pages.

mod common;

use std::collections::HashSet;

use common::{select, TestServer};
use scraper::Html;
use serde_json::Value;

/// 120 conversations: the even ones await the psychiatrist's reply (the student wrote
/// last), the odd ones were answered. Answers the server, the psychiatrist's cookie and
/// the conversations awaiting a reply, longest waiting first.
async fn busy_psychiatrist() -> (TestServer, String, Vec<i64>) {
    let server = TestServer::start().await;
    let doctor = server.psychiatrist("dr.busy").await;
    let db = server.db().await;
    let start = app::protocol::Timestamp::now().plus_millis(-3_600_000);
    // Synthetic accounts in one go (one password hash for all).
    let (ok, _, err) = server
        .cli(&["seed-demo", "--students", "120", "--prefix", "busy"], "")
        .await;
    assert!(ok, "{err}");
    let students = db
        .numbers("SELECT id FROM users WHERE username LIKE 'busy-s%' ORDER BY id")
        .await;
    assert_eq!(students.len(), 120);
    let mut awaiting = Vec::new();
    for (i, student) in (0..).zip(students) {
        let conversation = db.insert_conversation(student, doctor.id).await;
        // Later conversations wrote later; those awaiting waited since their message.
        let at = start.plus_millis(i * 1000);
        db.insert_message(conversation, student, "synthetic question", at)
            .await;
        if i % 2 == 1 {
            db.insert_message(
                conversation,
                doctor.id,
                "synthetic answer",
                at.plus_millis(500),
            )
            .await;
        } else {
            awaiting.push(conversation);
        }
    }
    (server, doctor.cookie, awaiting)
}

/// Every page of the sidebar in one order, following `more`.
async fn pages(server: &TestServer, cookie: &str, longest_waiting: bool) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut form = format!("longest_waiting={longest_waiting}");
        if let Some(after) = &after {
            form.push_str(&format!("&after={after}"));
        }
        let (status, page) = server.server_fn("conversations", cookie, &form).await;
        assert_eq!(status, 200, "{page}");
        pages.push(page["conversations"].as_array().unwrap().clone());
        match page["more"].as_str() {
            Some(more) => after = Some(more.to_owned()),
            None => return pages,
        }
        assert!(pages.len() < 10, "the pages never end");
    }
}

fn ids(list: &[Value]) -> Vec<i64> {
    list.iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn the_sidebar_comes_a_page_at_a_time_most_recent_first() {
    let (server, cookie, _) = busy_psychiatrist().await;
    let pages = pages(&server, &cookie, false).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [50, 50, 20]);
    let all: Vec<Value> = pages.concat();
    let listed = ids(&all);
    assert_eq!(
        listed.iter().collect::<HashSet<_>>().len(),
        120,
        "none twice"
    );
    let newest: Vec<i64> = all
        .iter()
        .map(|c| c["lastMessage"]["id"].as_i64().unwrap())
        .collect();
    assert!(
        newest.windows(2).all(|w| w[0] > w[1]),
        "most recent first across pages: {newest:?}"
    );

    // The server renders the first page, and the way to the next.
    let html = Html::parse_document(&server.page_text("/chat", &cookie).await);
    assert_eq!(select(&html, ".conversation-list li").len(), 50);
    assert_eq!(
        select(&html, "button.show-more"),
        ["Show more conversations"]
    );
}

#[tokio::test]
async fn longest_waiting_first_lists_every_waiting_student_before_the_rest() {
    let (server, cookie, awaiting) = busy_psychiatrist().await;
    let pages = pages(&server, &cookie, true).await;
    let all: Vec<Value> = pages.concat();
    assert_eq!(all.len(), 120);
    // The 60 waiting, the longest first (they wrote in conversation order), then the rest.
    assert_eq!(ids(&all[..60]), awaiting);
    assert!(all[..60].iter().all(|c| c["awaitingSince"].is_string()));
    assert!(all[60..].iter().all(|c| c["awaitingSince"].is_null()));
    let rest: Vec<i64> = all[60..]
        .iter()
        .map(|c| c["lastMessage"]["id"].as_i64().unwrap())
        .collect();
    assert!(rest.windows(2).all(|w| w[0] > w[1]), "{rest:?}");
}

#[tokio::test]
async fn a_page_cursor_haven_did_not_give_is_a_client_error() {
    let (server, cookie, _) = busy_psychiatrist().await;
    for after in ["x", "r.1", "q.1.2", "w.1.2"] {
        let (status, body) = server
            .server_fn(
                "conversations",
                &cookie,
                &format!("longest_waiting=false&after={after}"),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_payload")),
            "{after}"
        );
    }
}
