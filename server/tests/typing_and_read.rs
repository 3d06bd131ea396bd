//! Typing indicators and read receipts over Socket.IO.

mod common;

use common::{client_id, Peer, TestServer};
use serde_json::json;

#[tokio::test]
async fn typing_is_relayed_to_the_peer_and_never_echoed_to_the_typist() {
    let server = TestServer::start().await;
    let student = server.student("stu").await;
    let doctor = server.psychiatrist("dr.typing").await;
    let outsider = server.student("outsider").await;
    let s1 = Peer::connect(&server, &student, None).await;
    let mut p = Peer::connect(&server, &doctor, None).await;
    let o = Peer::connect(&server, &outsider, None).await;
    let conversation = s1
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await["conversation"]["id"]
        .clone();

    let ack = s1
        .call(
            "typing",
            json!({ "conversationId": conversation, "typing": true }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(
        p.next("typing").await,
        json!({ "conversationId": conversation, "userId": student.id, "typing": true })
    );
    // (Never echoed to the typist's other tabs: the audience is the other members,
    // tests/domain.rs.)

    let ack = o
        .call(
            "typing",
            json!({ "conversationId": conversation, "typing": true }),
        )
        .await;
    assert_eq!(
        ack["error"]["code"], "conversation_not_found",
        "not a member"
    );
    let ack = s1
        .call("typing", json!({ "conversationId": conversation }))
        .await;
    assert_eq!(ack["error"]["code"], "invalid_payload");

    // A flood is refused with a code; the socket stays usable.
    let mut codes = Vec::new();
    for _ in 0..10 {
        codes.push(
            s1.call(
                "typing",
                json!({ "conversationId": conversation, "typing": true }),
            )
            .await["error"]["code"]
                .clone(),
        );
    }
    assert!(codes.contains(&json!("rate_limited")), "{codes:?}");
}

#[tokio::test]
async fn read_receipts_are_stored_monotonic_and_relayed() {
    let server = TestServer::start().await;
    let student = server.student("stu").await;
    let doctor = server.psychiatrist("dr.reader").await;
    let mut s = Peer::connect(&server, &student, None).await;
    let p1 = Peer::connect(&server, &doctor, None).await;
    let mut p2 = Peer::connect(&server, &doctor, None).await;
    let conversation = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await["conversation"]["id"]
        .clone();
    let other = server.psychiatrist("dr.other").await;
    let elsewhere = s
        .call("conversation:open", json!({ "peerId": other.id }))
        .await["conversation"]["id"]
        .clone();

    let mut ids = Vec::new();
    for body in ["one", "two"] {
        let ack = s
            .call(
                "message:send",
                json!({ "conversationId": conversation, "clientId": client_id(), "body": body }),
            )
            .await;
        ids.push(ack["message"]["id"].as_i64().unwrap());
    }
    let foreign = s
        .call(
            "message:send",
            json!({ "conversationId": elsewhere, "clientId": client_id(), "body": "x" }),
        )
        .await["message"]["id"]
        .clone();

    let ack = p1
        .call(
            "conversation:read",
            json!({ "conversationId": conversation, "lastReadId": ids[1] }),
        )
        .await;
    assert_eq!(ack, json!({ "ok": true, "lastReadId": ids[1] }));
    let seen = s.next("conversation:read").await;
    assert_eq!(
        seen["conversationId"], conversation,
        "the sender sees it was read"
    );
    assert_eq!(seen["userId"], doctor.id);
    assert_eq!(seen["lastReadId"], ids[1]);
    assert!(seen["readAt"].is_string(), "with the time: {seen}");
    assert_eq!(
        p2.next("conversation:read").await,
        seen,
        "the reader's other tab too"
    );

    // Never backwards.
    let ack = p1
        .call(
            "conversation:read",
            json!({ "conversationId": conversation, "lastReadId": ids[0] }),
        )
        .await;
    assert_eq!(ack["lastReadId"], ids[1]);

    // Ids that don't exist or belong to another conversation.
    let ack = p1
        .call(
            "conversation:read",
            json!({ "conversationId": conversation, "lastReadId": 999_999 }),
        )
        .await;
    assert_eq!(ack["error"]["code"], "unknown_message");
    let ack = p1
        .call(
            "conversation:read",
            json!({ "conversationId": conversation, "lastReadId": foreign }),
        )
        .await;
    assert_eq!(ack["error"]["code"], "unknown_message");
}
