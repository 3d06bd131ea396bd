//! Stopping the server: open sockets are closed, everyone who was online gets their
//! `last_seen` stored, every acknowledged message is on disk, and the process exits 0.

mod common;

use common::{client_id, Peer, TestServer};
use serde_json::json;

#[tokio::test]
async fn sigterm_stores_last_seen_and_keeps_every_acked_message() {
    // A grace period far longer than the test: only the shutdown itself can store
    // `last_seen`.
    let mut server = TestServer::start_with(&[("HAVEN_PRESENCE_GRACE_MS", "600000")]).await;
    let student = server.student("shutdown-student").await;
    let doctor = server.psychiatrist("shutdown-doctor").await;
    let s = Peer::connect(&server, &student, None).await;
    let opened = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    let conversation = opened["conversation"]["id"].as_i64().expect("opened");
    let mut acked = Vec::new();
    for n in 0..20 {
        let ack = s
            .call(
                "message:send",
                json!({ "conversationId": conversation, "clientId": client_id(), "body": format!("line {n}") }),
            )
            .await;
        acked.push(ack["message"]["id"].as_i64().expect("acked"));
    }

    assert!(server.stop().await, "haven exits 0 on SIGTERM");
    drop(s);

    let db = server.db().await;
    let last_seen = db
        .text(&format!(
            "SELECT CAST(last_seen_at AS TEXT) FROM users WHERE id = {}",
            student.id
        ))
        .await;
    let last_seen = last_seen.expect("last_seen stored at shutdown");
    if !common::on_postgres() {
        // SQLite keeps times as fixed-width text: text order is time order.
        assert_eq!(
            last_seen.len(),
            "2026-11-23T02:00:00.000Z".len(),
            "{last_seen}"
        );
    }
    let stored = db
        .numbers(&format!(
            "SELECT id FROM messages WHERE conversation_id = {conversation} ORDER BY id"
        ))
        .await;
    assert_eq!(stored, acked, "every acknowledged message is stored, once");
}
