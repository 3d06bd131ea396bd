//! Web Push between visits, against the real server and a push service on loopback: an
//! axum endpoint in the test that checks each request's VAPID signature with the server's
//! public key and decrypts the payload with the device's private key, as a browser's push
//! service and the browser would. The server is started with `HAVEN_PUSH_ALLOW_LOOPBACK`
//! (tests only) so that it may reach it.
//!
//! "No push" is never waited for: reminders are decided one after another by one task, so
//! once a later reminder's push has arrived, an earlier one's decision is done; the
//! database's claim (`pushed_through_id`) shows whether it pushed.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64ct::{Base64UrlUnpadded, Encoding};
use common::*;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use web_push_native::jwt_simple::prelude::*;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
use web_push_native::p256::SecretKey;

/// One device as its push service knows it: the browser's keys.
struct Device {
    secret: SecretKey,
    auth: [u8; 16],
    /// Statuses to answer, in turn (then 201), with an optional `Retry-After`.
    script: Vec<(u16, Option<u64>)>,
}

/// A push as the device received it.
#[derive(Debug, Clone)]
struct Received {
    device: String,
    at: Instant,
    /// The decrypted payload, as text (it must carry no body and, by default, no name).
    plaintext: String,
    payload: Value,
    headers: HeaderMap,
    /// The VAPID signature verified with the key the server offers.
    signed: bool,
}

#[derive(Clone, Default)]
struct Service {
    devices: Arc<Mutex<HashMap<String, Device>>>,
    received: Arc<Mutex<Option<mpsc::UnboundedSender<Received>>>>,
    attempts: Arc<Mutex<Vec<(String, Instant, u16)>>>,
    vapid_key: Arc<Mutex<String>>,
}

/// The push service on loopback and what it received.
struct PushService {
    base: String,
    service: Service,
    pushes: mpsc::UnboundedReceiver<Received>,
}

impl PushService {
    async fn start() -> Self {
        let service = Service::default();
        let (tx, pushes) = mpsc::unbounded_channel();
        *service.received.lock().unwrap() = Some(tx);
        let app = axum::Router::new()
            .route("/push/{device}", post(receive))
            .with_state(service.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base,
            service,
            pushes,
        }
    }

    /// Trusts signatures made with this server's key (its `push_offer`).
    fn trust(&self, vapid_public: &str) {
        *self.service.vapid_key.lock().unwrap() = vapid_public.to_owned();
    }

    /// A new browser subscription: the server-function form to hand it over with `words`.
    fn device(&self, name: &str, script: Vec<(u16, Option<u64>)>) -> (String, String) {
        let secret = SecretKey::from_slice(&rand_bytes::<32>()).expect("a valid scalar");
        let auth = rand_bytes::<16>();
        let p256dh = Base64UrlUnpadded::encode_string(
            secret.public_key().to_encoded_point(false).as_bytes(),
        );
        let endpoint = format!("{}/push/{name}", self.base);
        let form = format!(
            "endpoint={}&p256dh={p256dh}&auth={}",
            urlencode(&endpoint),
            Base64UrlUnpadded::encode_string(&auth)
        );
        self.service.devices.lock().unwrap().insert(
            name.to_owned(),
            Device {
                secret,
                auth,
                script,
            },
        );
        (endpoint, form)
    }

    /// The next push to arrive, which must come.
    async fn next(&mut self) -> Received {
        tokio::time::timeout(Duration::from_secs(15), self.pushes.recv())
            .await
            .expect("a push in time")
            .expect("service running")
    }

    fn attempts(&self, device: &str) -> Vec<(Instant, u16)> {
        self.service
            .attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|(d, _, _)| d == device)
            .map(|(_, at, status)| (*at, *status))
            .collect()
    }
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for b in &mut out {
        *b = rand::random();
    }
    out
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn receive(
    State(service): State<Service>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let at = Instant::now();
    let (status, retry_after, keys) = {
        let mut devices = service.devices.lock().unwrap();
        let Some(found) = devices.get_mut(&device) else {
            return (StatusCode::NOT_FOUND, HeaderMap::new());
        };
        let (status, retry) = if found.script.is_empty() {
            (201, None)
        } else {
            found.script.remove(0)
        };
        (status, retry, (found.secret.clone(), found.auth))
    };
    service
        .attempts
        .lock()
        .unwrap()
        .push((device.clone(), at, status));
    let mut answer = HeaderMap::new();
    if let Some(seconds) = retry_after {
        answer.insert("retry-after", seconds.to_string().parse().unwrap());
    }
    if status == 201 {
        let auth = web_push_native::Auth::clone_from_slice(&keys.1);
        let plain = web_push_native::decrypt(body.to_vec(), &keys.0, &auth).expect("decrypts");
        let plaintext = String::from_utf8(plain).expect("utf-8");
        let payload = serde_json::from_str(&plaintext).unwrap_or(Value::Null);
        let signed = vapid_verifies(&headers, &service.vapid_key.lock().unwrap());
        if let Some(tx) = service.received.lock().unwrap().as_ref() {
            let _ = tx.send(Received {
                device,
                at,
                plaintext,
                payload,
                headers,
                signed,
            });
        }
    }
    (StatusCode::from_u16(status).unwrap(), answer)
}

/// `Authorization: vapid t=<JWT>, k=<key>`: the key is the server's, and the JWT is signed
/// with it for this push service's origin.
fn vapid_verifies(headers: &HeaderMap, expected_key: &str) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(rest) = value.strip_prefix("vapid ") else {
        return false;
    };
    let mut token = "";
    let mut key = "";
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(t) = part.strip_prefix("t=") {
            token = t;
        } else if let Some(k) = part.strip_prefix("k=") {
            key = k;
        }
    }
    if key != expected_key {
        return false;
    }
    let Ok(bytes) = Base64UrlUnpadded::decode_vec(key) else {
        return false;
    };
    let Ok(public) = ES256PublicKey::from_bytes(&bytes) else {
        return false;
    };
    public
        .verify_token::<NoCustomClaims>(token, None)
        .is_ok_and(|claims| claims.audiences.is_some() && claims.subject.is_some())
}

/// A server that may reach the loopback push service; a tab hidden for 1 s stops watching.
async fn server() -> TestServer {
    TestServer::start_with(&[
        ("HAVEN_PUSH_ALLOW_LOOPBACK", "true"),
        ("HAVEN_PUSH_HIDDEN_SECS", "1"),
        ("HAVEN_PRESENCE_GRACE_MS", "100"),
    ])
    .await
}

/// The key `push_offer` hands this session, and whether it is offered.
async fn offer(server: &TestServer, account: &Account) -> Value {
    let (status, offer) = server.server_fn("push_offer", &account.cookie, "").await;
    assert_eq!(status, 200, "{offer}");
    offer
}

/// Subscribes the device `form` for `account` with `words`; answers status and body.
async fn subscribe(
    server: &TestServer,
    account: &Account,
    form: &str,
    words: &str,
) -> (u16, Value) {
    server
        .server_fn(
            "push_subscribe",
            &account.cookie,
            &format!("{form}&words={words}"),
        )
        .await
}

async fn pushed_through(server: &TestServer, conversation: i64, user: i64) -> i64 {
    server
        .db()
        .await
        .number(&format!(
            "SELECT pushed_through_id FROM conversation_members \
             WHERE conversation_id = {conversation} AND user_id = {user}"
        ))
        .await
}

async fn subscriptions_of(server: &TestServer, user: i64) -> i64 {
    server
        .db()
        .await
        .number(&format!(
            "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = {user}"
        ))
        .await
}

/// A student (subscribed, no socket) with a conversation with a connected psychiatrist.
struct Scene {
    server: TestServer,
    push: PushService,
    student: Account,
    doctor: Peer,
    conversation: i64,
}

async fn scene(words: &str) -> Scene {
    let server = server().await;
    let push = PushService::start().await;
    let student = server.student_named("stu.push", "Sam Synthetic").await;
    let doctor_account = server.psychiatrist("dr.push").await;
    let offered = offer(&server, &student).await;
    assert_eq!(offered["offered"], true);
    push.trust(offered["publicKey"].as_str().unwrap());
    let (_, form) = push.device("phone", vec![]);
    let (status, body) = subscribe(&server, &student, &form, words).await;
    assert_eq!(status, 200, "{body}");
    let mut doctor = Peer::connect(&server, &doctor_account, None).await;
    let conversation = absent_conversation(&server, &student, &mut doctor, doctor_account.id).await;
    Scene {
        server,
        push,
        student,
        doctor,
        conversation,
    }
}

/// Opens `student`'s conversation with the psychiatrist from a tab that then closes; returns
/// once the server let the tab go (the psychiatrist sees them go offline).
async fn absent_conversation(
    server: &TestServer,
    student: &Account,
    doctor: &mut Peer,
    doctor_id: i64,
) -> i64 {
    let tab = Peer::connect(server, student, None).await;
    let conversation = open_with(&tab, doctor_id).await;
    tab.disconnect().await;
    gone(doctor, student.id).await;
    conversation
}

/// Waits until `watcher` hears that `user` went offline.
async fn gone(watcher: &mut Peer, user: i64) {
    loop {
        let update = watcher.next("presence").await;
        if update["userId"] == user && update["online"] == false {
            return;
        }
    }
}

/// A second student, subscribed on the device `device` and absent, with a conversation with
/// the psychiatrist: a push to them shows that earlier reminders were decided.
async fn sentinel(
    server: &TestServer,
    push: &PushService,
    doctor: &mut Peer,
    doctor_id: i64,
    username: &str,
    device: &str,
    script: Vec<(u16, Option<u64>)>,
) -> (Account, i64) {
    let other = server.student(username).await;
    let (_, form) = push.device(device, script);
    assert_eq!(subscribe(server, &other, &form, "private").await.0, 200);
    let conversation = absent_conversation(server, &other, doctor, doctor_id).await;
    (other, conversation)
}

/// Returns once every reminder decided before it has been: a sentinel student (`username`,
/// device `device`) is written to and their push arrives. One task decides reminders in
/// order, so an earlier reminder that was due would have been claimed (and queued) first.
async fn all_decided(
    server: &TestServer,
    push: &mut PushService,
    doctor: &mut Peer,
    doctor_id: i64,
    username: &str,
    device: &str,
) -> Account {
    let (other, conversation) =
        sentinel(server, push, doctor, doctor_id, username, device, vec![]).await;
    say(doctor, conversation, "synthetic sentinel").await;
    assert_eq!(push.next().await.device, device);
    other
}

#[tokio::test]
async fn an_absent_student_is_pushed_once_per_conversation_until_they_read() {
    let Scene {
        server,
        mut push,
        student,
        doctor,
        conversation,
    } = scene("private").await;
    let first = say(&doctor, conversation, "synthetic reply one").await;
    let received = push.next().await;
    assert!(received.signed, "VAPID signed with the offered key");
    assert_eq!(received.payload["title"], "New message in Haven");
    assert_eq!(received.payload["url"], format!("/chat/{conversation}"));
    assert!(
        !received.plaintext.contains("synthetic reply"),
        "never the text"
    );
    assert!(
        !received.plaintext.contains("Dr. Synthetic"),
        "no name by default"
    );
    assert_eq!(received.headers["ttl"], "86400");
    assert_eq!(received.headers["urgency"], "normal");
    assert_eq!(
        received.headers["topic"],
        format!("conversation-{conversation}").as_str()
    );
    assert_eq!(received.headers["content-encoding"], "aes128gcm");
    assert_eq!(
        pushed_through(&server, conversation, student.id).await,
        first["id"].as_i64().unwrap()
    );

    // A second message before they read: no second push (the claim stays on the first).
    say(&doctor, conversation, "synthetic reply two").await;
    // They read both (a tab that then closes), and a third message is pushed again.
    let tab = Peer::connect(&server, &student, None).await;
    let second_id = server
        .db()
        .await
        .number(&format!(
            "SELECT MAX(id) FROM messages WHERE conversation_id = {conversation}"
        ))
        .await;
    let read = tab
        .call(
            "conversation:read",
            json!({ "conversationId": conversation, "lastReadId": second_id }),
        )
        .await;
    assert_eq!(read["ok"], true);
    tab.disconnect().await;
    let mut doctor = doctor;
    gone(&mut doctor, student.id).await;
    let third = say(&doctor, conversation, "synthetic reply three").await;
    let again = push.next().await;
    assert_eq!(again.payload["url"], format!("/chat/{conversation}"));
    assert_eq!(
        pushed_through(&server, conversation, student.id).await,
        third["id"].as_i64().unwrap()
    );
    assert_eq!(
        push.attempts("phone").len(),
        2,
        "one push per unread stretch"
    );
    let metrics = server
        .http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("haven_push_total{outcome=\"sent\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn no_push_while_a_tab_watches_and_one_once_it_was_hidden_a_while() {
    let Scene {
        server,
        mut push,
        student,
        doctor,
        conversation,
    } = scene("private").await;
    let tab = Peer::connect(&server, &student, None).await;
    let watched = say(&doctor, conversation, "synthetic while watching").await;
    let hidden = tab.call("attention", json!({ "visible": false })).await;
    assert_eq!(hidden["ok"], true);
    let hidden_at = Instant::now();
    // The server lets a hidden tab watch for 1 s (HAVEN_PUSH_HIDDEN_SECS) before it stops
    // counting: this wait lets that timer run out, it proves nothing by itself.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    say(&doctor, conversation, "synthetic while hidden").await;
    let received = push.next().await;
    assert!(
        received.at > hidden_at,
        "the one push came after the tab was hidden, not for the message it watched"
    );
    assert!(
        pushed_through(&server, conversation, student.id).await > watched["id"].as_i64().unwrap()
    );
    // Visible again: watching again at once. A message now claims nothing.
    let shown = tab.call("attention", json!({ "visible": true })).await;
    assert_eq!(shown["ok"], true);
    let before = pushed_through(&server, conversation, student.id).await;
    let read_to = say(&doctor, conversation, "synthetic while visible").await;
    // Read everything, so that a push would be due if the tab did not count.
    tab.call(
        "conversation:read",
        json!({ "conversationId": conversation, "lastReadId": read_to["id"] }),
    )
    .await;
    say(&doctor, conversation, "synthetic while visible again").await;
    // A sentinel: another absent, subscribed student's push comes after those decisions.
    let mut doctor = doctor;
    let doctor_id = doctor_id(&server).await;
    all_decided(
        &server,
        &mut push,
        &mut doctor,
        doctor_id,
        "stu.sentinel",
        "sentinel",
    )
    .await;
    assert_eq!(
        pushed_through(&server, conversation, student.id).await,
        before
    );
    assert_eq!(push.attempts("phone").len(), 1);
}

async fn doctor_id(server: &TestServer) -> i64 {
    server
        .db()
        .await
        .number("SELECT id FROM users WHERE username = 'dr.push'")
        .await
}

#[tokio::test]
async fn the_words_are_the_devices_choice_and_never_the_text() {
    let Scene {
        server,
        mut push,
        student,
        doctor,
        conversation,
    } = scene("names").await;
    // A second device of the same session keeps the private default.
    let (_, form) = push.device("laptop", vec![]);
    assert_eq!(subscribe(&server, &student, &form, "private").await.0, 200);
    say(&doctor, conversation, "synthetic secret words").await;
    let mut titles = HashMap::new();
    for _ in 0..2 {
        let received = push.next().await;
        assert!(!received.plaintext.contains("synthetic secret words"));
        titles.insert(received.device.clone(), received.payload["title"].clone());
    }
    assert_eq!(titles["phone"], "New message from Dr. Synthetic — Haven");
    assert_eq!(titles["laptop"], "New message in Haven");
}

#[tokio::test]
async fn sign_out_and_an_ended_session_stop_pushes() {
    let Scene {
        server,
        mut push,
        student,
        mut doctor,
        conversation,
    } = scene("private").await;
    // An ended session (expired in the store): the reminder finds it dead and removes it.
    server
        .db()
        .await
        .execute(if on_postgres() {
            "UPDATE tower_sessions.session SET expiry_date = now() - interval '1 minute'"
        } else {
            "UPDATE tower_sessions SET expiry_date = '2000-01-01 00:00:00.000000000 +00:00:00'"
        })
        .await
        .unwrap();
    say(&doctor, conversation, "synthetic after expiry").await;
    let doctor_id = doctor_id(&server).await;
    let other = all_decided(
        &server,
        &mut push,
        &mut doctor,
        doctor_id,
        "stu.sentinel",
        "sentinel",
    )
    .await;
    assert_eq!(pushed_through(&server, conversation, student.id).await, 0);
    assert_eq!(subscriptions_of(&server, student.id).await, 0, "removed");
    assert!(push.attempts("phone").is_empty());

    // Signing out removes the session's subscriptions at once.
    assert_eq!(subscriptions_of(&server, other.id).await, 1);
    assert_eq!(server.logout(&other.cookie).await, 204);
    assert_eq!(subscriptions_of(&server, other.id).await, 0);
}

#[tokio::test]
async fn a_shared_computer_is_not_offered_and_bad_subscriptions_are_refused() {
    let server = server().await;
    let push = PushService::start().await;
    server.register_student("stu.shared").await;
    let res = server
        .http()
        .post(server.url("/api/auth/login"))
        .json(&json!({ "username": "stu.shared", "password": PASSWORD, "shared": true }))
        .send()
        .await
        .unwrap();
    let shared = Account {
        cookie: session_cookie(res.headers()).unwrap(),
        id: 0,
    };
    assert_eq!(offer(&server, &shared).await["offered"], false);
    let (_, form) = push.device("shared", vec![]);
    let (status, body) = subscribe(&server, &shared, &form, "private").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("push_not_offered"))
    );

    let student = server.student("stu.bad").await;
    let (_, good) = push.device("good", vec![]);
    let keys = good.split_once('&').unwrap().1.to_owned();
    for (endpoint, why) in [
        ("https://10.0.0.8/push/x", "a private address"),
        ("http://10.0.0.8/push/x", "a private address over http"),
        (
            "https://169.254.169.254/latest/meta-data",
            "the metadata address",
        ),
        ("https://[fd00:ec2::254]/x", "the IPv6 metadata address"),
        ("http://192.168.1.1/x", "a home router"),
        ("file:///etc/passwd", "not http"),
        ("https://user:pw@127.0.0.1/x", "credentials in the URL"),
    ] {
        let form = format!("endpoint={}&{keys}", urlencode(endpoint));
        let (status, body) = subscribe(&server, &student, &form, "private").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_subscription")),
            "{why}: {body}"
        );
    }
    let endpoint = urlencode(&format!("{}/push/good", push.base));
    for (form, why) in [
        (
            format!("endpoint={endpoint}&p256dh=AAAA&auth=AAAAAAAAAAAAAAAAAAAAAA"),
            "not a point",
        ),
        (
            format!("endpoint={endpoint}&{}", keys.replace("auth=", "auth=x")),
            "auth not 16 bytes",
        ),
    ] {
        let (status, body) = subscribe(&server, &student, &form, "private").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_subscription")),
            "{why}"
        );
    }
    let (status, body) = subscribe(&server, &student, &good, "loud").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_subscription"))
    );
    let (status, _) = server
        .server_fn(
            "push_subscribe",
            "haven_session=forged",
            &format!("{good}&words=private"),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        subscriptions_of(&server, student.id).await,
        0,
        "nothing stored"
    );
}

#[tokio::test]
async fn gone_subscriptions_are_removed_and_a_busy_service_is_retried_after_retry_after() {
    let Scene {
        server,
        mut push,
        student,
        mut doctor,
        conversation,
    } = scene("private").await;
    // The phone's service is busy once (429, Retry-After: 1), then takes it.
    push.service
        .devices
        .lock()
        .unwrap()
        .get_mut("phone")
        .unwrap()
        .script = vec![(429, Some(1))];
    say(&doctor, conversation, "synthetic busy").await;
    let received = push.next().await;
    let attempts = push.attempts("phone");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].1, 429);
    assert!(
        attempts[1].0.duration_since(attempts[0].0) >= Duration::from_millis(950),
        "retried after Retry-After"
    );
    assert_eq!(received.device, "phone");

    // A second student whose browser dropped the subscription: 410 removes it.
    let doctor_id = doctor_id(&server).await;
    let (other, other_conversation) = sentinel(
        &server,
        &push,
        &mut doctor,
        doctor_id,
        "stu.gone",
        "gone",
        vec![(410, None)],
    )
    .await;
    say(&doctor, other_conversation, "synthetic to a gone device").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while subscriptions_of(&server, other.id).await != 0 {
        assert!(
            Instant::now() < deadline,
            "the gone subscription was removed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(push.attempts("gone").len(), 1, "not retried");
    let _ = student;
}

#[tokio::test]
async fn a_group_reminder_names_the_group_never_a_member() {
    let Scene {
        server,
        mut push,
        student,
        doctor,
        conversation: _,
    } = scene("names").await;
    let created = doctor
        .call(
            "group:create",
            json!({ "name": "Synthetic Circle", "description": "A synthetic group." }),
        )
        .await;
    let group = created["conversation"]["id"].as_i64().expect("group");
    let invited = doctor
        .call(
            "group:invite",
            json!({ "conversationId": group, "studentId": student.id }),
        )
        .await;
    assert_eq!(invited["ok"], true, "{invited}");
    {
        let tab = Peer::connect(&server, &student, None).await;
        let joined = tab
            .call(
                "group:answer",
                json!({ "conversationId": group, "accept": true }),
            )
            .await;
        assert_eq!(joined["ok"], true, "{joined}");
        tab.disconnect().await;
    }
    let mut doctor = doctor;
    gone(&mut doctor, student.id).await;
    say(&doctor, group, "synthetic group words").await;
    let received = push.next().await;
    assert_eq!(
        received.payload["title"],
        "New message from Synthetic Circle — Haven"
    );
    assert_eq!(received.payload["url"], format!("/chat/{group}"));
    assert!(!received.plaintext.contains("synthetic group words"));
}

#[tokio::test]
#[ignore = "needs PostgreSQL, Redis and HAProxy: make test runs it"]
async fn two_nodes_push_once_and_a_tab_on_the_other_node_counts_as_watching() {
    let cluster = TestCluster::start(&[
        ("HAVEN_PUSH_ALLOW_LOOPBACK", "true"),
        ("HAVEN_PRESENCE_GRACE_MS", "100"),
    ])
    .await;
    let mut push = PushService::start().await;
    let (a, b) = (&cluster.a, &cluster.b);
    let student = a.student("stu.nodes").await;
    let doctor_account = b.psychiatrist("dr.nodes").await;
    let offered = offer(a, &student).await;
    push.trust(offered["publicKey"].as_str().unwrap());
    // Both nodes sign with the one key kept in the database.
    assert_eq!(
        offer(b, &doctor_account).await["publicKey"],
        offered["publicKey"]
    );
    let (_, form) = push.device("phone", vec![]);
    assert_eq!(subscribe(a, &student, &form, "private").await.0, 200);
    // The student's tab on node A watches; the psychiatrist writes on node B.
    let tab = Peer::connect(a, &student, None).await;
    let conversation = open_with(&tab, doctor_account.id).await;
    let mut doctor = Peer::connect(b, &doctor_account, None).await;
    say(&doctor, conversation, "synthetic across nodes").await;
    // Reminders are decided after the send's ack: a sentinel's push shows this one was
    // decided (while the tab still watched) before the tab goes.
    all_decided(
        a,
        &mut push,
        &mut doctor,
        doctor_account.id,
        "stu.nodes2",
        "sentinel",
    )
    .await;
    assert_eq!(
        pushed_through(a, conversation, student.id).await,
        0,
        "watched on node A"
    );
    assert!(push.attempts("phone").is_empty());
    tab.disconnect().await;
    gone(&mut doctor, student.id).await;
    // Now absent: exactly one push, from one node.
    let second = say(&doctor, conversation, "synthetic to an absent student").await;
    let received = push.next().await;
    assert!(received.signed);
    assert_eq!(received.device, "phone");
    assert_eq!(
        pushed_through(a, conversation, student.id).await,
        second["id"].as_i64().unwrap()
    );
    // A third message (still unread): coalesced, and a second sentinel shows it was decided.
    say(&doctor, conversation, "synthetic third").await;
    all_decided(
        a,
        &mut push,
        &mut doctor,
        doctor_account.id,
        "stu.nodes3",
        "sentinel2",
    )
    .await;
    assert_eq!(push.attempts("phone").len(), 1, "one push across two nodes");
}

#[tokio::test]
async fn a_psychiatrist_away_is_reminded_only_on_devices_that_chose_it() {
    let server = server().await;
    let mut push = PushService::start().await;
    let doctor = server.psychiatrist("dr.away").await;
    let offered = offer(&server, &doctor).await;
    assert_eq!(offered["psychiatrist"], true);
    push.trust(offered["publicKey"].as_str().unwrap());
    // Away until 2099 (no office hours): out of hours now.
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| format!("{d}_start=&{d}_end="))
        .collect::<Vec<_>>()
        .join("&");
    let form = format!("{days}&back_on=2099-12-02&away_note=&accepting_new=on");
    assert_eq!(
        form_post(&server, "/api/form/save_availability", &doctor.cookie, form).await,
        302
    );
    // Two devices: the work phone chose reminders out of hours, the home laptop did not.
    let (_, phone) = push.device("work-phone", vec![]);
    let (_, laptop) = push.device("home-laptop", vec![]);
    let (status, body) = server
        .server_fn(
            "push_subscribe",
            &doctor.cookie,
            &format!("{phone}&words=private&after_hours=true"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(subscribe(&server, &doctor, &laptop, "private").await.0, 200);
    // A student writes; the psychiatrist has no tab open.
    let student = server.student("stu.late").await;
    let tab = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&tab, doctor.id).await;
    say(&tab, conversation, "synthetic message at night").await;
    let received = push.next().await;
    assert_eq!(received.device, "work-phone");
    assert_eq!(received.payload["url"], format!("/chat/{conversation}"));
    // A later reminder (another psychiatrist, in hours) arrives after any request the first
    // decision made: the laptop had none.
    let other = server.psychiatrist("dr.sentinel").await;
    let (_, device) = push.device("sentinel", vec![]);
    assert_eq!(subscribe(&server, &other, &device, "private").await.0, 200);
    let later = open_with(&tab, other.id).await;
    say(&tab, later, "synthetic sentinel").await;
    assert_eq!(push.next().await.device, "sentinel");
    assert!(
        push.attempts("home-laptop").is_empty(),
        "not chosen out of hours"
    );
}
