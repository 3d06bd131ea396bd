//! Presence over Socket.IO: counted per user across tabs, a grace period before offline,
//! and events only to those allowed to see them. Who must hear nothing (a stranger, a
//! reload, a second tab) is asserted in-process, on paused time (`tests/domain.rs`); here
//! the events that must come do.

mod common;

use std::time::Duration;

use common::{Peer, TestServer};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const GRACE_MS: u64 = 300;

/// The ids a `presence:snapshot` lists as online.
fn online_in(snapshot: &Value) -> Vec<i64> {
    snapshot["online"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_students_status_reaches_only_psychiatrists_who_share_a_conversation() {
    let grace = GRACE_MS.to_string();
    let server = TestServer::start_with(&[("HAVEN_PRESENCE_GRACE_MS", grace.as_str())]).await;
    let student = server.student("stu").await;
    let doctor = server.psychiatrist("dr.shared").await;
    let stranger = server.psychiatrist("dr.stranger").await;

    // The student opens a conversation with `doctor` only.
    let s = Peer::connect(&server, &student, None).await;
    let ack = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    assert_eq!(ack["ok"], true);
    s.disconnect().await;
    tokio::time::sleep(Duration::from_millis(GRACE_MS * 3)).await;

    let mut b = Peer::connect(&server, &doctor, None).await;
    let mut c = Peer::connect(&server, &stranger, None).await;
    // The snapshot on connect: one event, the student not among those online.
    let snapshot = b.next("presence:snapshot").await;
    assert_eq!(online_in(&snapshot), Vec::<i64>::new(), "{snapshot:?}");
    let snapshot = c.next("presence:snapshot").await;
    assert_eq!(online_in(&snapshot), Vec::<i64>::new(), "{snapshot:?}");

    // The student comes online: B hears it (C, with no conversation, is not told:
    // tests/domain.rs).
    let a1 = Peer::connect(&server, &student, None).await;
    let online = b.next("presence").await;
    assert_eq!(
        online,
        json!({ "userId": student.id, "online": true, "lastSeen": null })
    );

    // A second tab, then a reload: the next thing B hears of the student is the offline
    // after the last socket closed for good, with lastSeen.
    let a2 = Peer::connect(&server, &student, None).await;
    a2.disconnect().await;
    a1.disconnect().await;
    let a3 = Peer::connect(&server, &student, None).await;
    a3.disconnect().await;
    let offline = b.next("presence").await;
    assert_eq!(offline["userId"], student.id);
    assert_eq!(offline["online"], false);
    assert!(offline["lastSeen"].is_string());
}

#[tokio::test]
async fn a_psychiatrists_status_reaches_every_signed_in_student_and_no_psychiatrist() {
    let grace = GRACE_MS.to_string();
    let server = TestServer::start_with(&[("HAVEN_PRESENCE_GRACE_MS", grace.as_str())]).await;
    let student = server.student("stu").await;
    let colleague = server.psychiatrist("dr.colleague").await;
    let doctor = server.psychiatrist("dr.available").await;

    let mut s = Peer::connect(&server, &student, None).await;
    let snapshot = s.next("presence:snapshot").await;
    assert_eq!(online_in(&snapshot), Vec::<i64>::new(), "nobody online yet");
    assert_eq!(snapshot["offline"], json!([]), "nobody left yet");
    let mut other = Peer::connect(&server, &colleague, None).await;
    other.next("presence:snapshot").await;
    let colleague_online = s.next("presence").await;
    assert_eq!(colleague_online["userId"], colleague.id);
    assert_eq!(colleague_online["online"], true);

    // (Psychiatrists don't see each other: the audience is the students, tests/domain.rs.)
    let d = Peer::connect(&server, &doctor, None).await;
    assert_eq!(
        s.next("presence").await,
        json!({ "userId": doctor.id, "online": true, "lastSeen": null })
    );

    // A new student tab is right at once: both psychiatrists online, in one event, and no
    // per-psychiatrist `presence` flood.
    let mut fresh = Peer::connect(&server, &student, None).await;
    let mut online = online_in(&fresh.next("presence:snapshot").await);
    online.sort_unstable();
    let mut expected = vec![colleague.id, doctor.id];
    expected.sort_unstable();
    assert_eq!(online, expected);

    // No per-psychiatrist `presence` flood followed the snapshot: the next presence event
    // the new tab gets is the next change.
    d.disconnect().await;
    for tab in [&mut s, &mut fresh] {
        let offline = tab.next("presence").await;
        assert_eq!(offline["userId"], doctor.id);
        assert_eq!(offline["online"], false);
    }
}

/// Reconnects with `presenceSince`; the snapshot must list nobody online and exactly `gone`
/// as offline. Answers the socket and when `gone` left.
async fn come_back(
    server: &TestServer,
    account: &common::Account,
    since: Value,
    gone: i64,
) -> (Peer, Option<String>) {
    let auth = json!({ "presenceSince": since });
    let mut peer = Peer::connect_with_auth(server, account, Some(auth)).await;
    let snapshot = peer.next("presence:snapshot").await;
    assert_eq!(online_in(&snapshot), Vec::<i64>::new(), "{snapshot:?}");
    let offline = snapshot["offline"].as_array().cloned().unwrap_or_default();
    assert_eq!(offline.len(), 1, "{snapshot:?}");
    assert_eq!(offline[0]["userId"], gone);
    assert_eq!(offline[0]["online"], false);
    (peer, offline[0]["lastSeen"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn who_left_while_a_socket_was_away_comes_with_the_time_they_left() {
    let grace = GRACE_MS.to_string();
    let server = TestServer::start_with(&[("HAVEN_PRESENCE_GRACE_MS", grace.as_str())]).await;
    let student = server.student("stu").await;
    let doctor = server.psychiatrist("dr.away").await;
    let away = Duration::from_millis(GRACE_MS * 3);

    let mut d = Peer::connect(&server, &doctor, None).await;
    let doctor_clock = d.next("presence:snapshot").await["at"].clone();
    let mut s = Peer::connect(&server, &student, None).await;
    let first = s.next("presence:snapshot").await;
    assert_eq!(online_in(&first), vec![doctor.id]);
    let student_clock = first["at"].clone();
    assert!(student_clock.is_string(), "{first:?}");
    let ack = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    assert_eq!(ack["ok"], true);

    // Both go away; the student leaves for good while the doctor's socket is down.
    s.disconnect().await;
    d.disconnect().await;
    tokio::time::sleep(away).await;

    // The doctor comes back: the student is offline, with the time they left.
    let (d, left_at) = come_back(&server, &doctor, doctor_clock, student.id).await;
    assert!(left_at.is_some());
    d.disconnect().await;
    tokio::time::sleep(away).await;

    // The student comes back: the doctor left meanwhile, and the student hears when.
    let (s, left) = come_back(&server, &student, student_clock, doctor.id).await;
    let left = left.unwrap_or_default();
    let left = OffsetDateTime::parse(&left, &Rfc3339).expect("lastSeen is RFC 3339");
    let listening_after = (left + time::Duration::seconds(2))
        .format(&Rfc3339)
        .expect("formats");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let auth = json!({ "presenceSince": listening_after });
    let mut tab = Peer::connect_with_auth(&server, &student, Some(auth)).await;
    assert_eq!(tab.next("presence:snapshot").await["offline"], json!([]));
    s.disconnect().await;
}
