//! The hardening, tried from outside as an attacker would: markup that must stay text,
//! requests forged from other origins, security headers, connections that are too big, too
//! slow or never authenticate, throttles, and sessions that end.

mod common;

use std::time::Duration;

use common::{client_id, session_cookie, set_cookie, Account, Peer, TestServer, PASSWORD};
use futures_util::{SinkExt, StreamExt};
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN};
use scraper::{Html, Selector};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Markup that would run if it ever reached the page as HTML.
const MARKUP: &str =
    "</title></script><script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">";

fn select(html: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).expect("selector");
    html.select(&selector)
        .map(|e| e.text().collect::<String>())
        .collect()
}

/// Asserts that nothing in the page is live markup from [`MARKUP`], and answers the page.
fn assert_inert(page: &str, what: &str) -> Html {
    let html = Html::parse_document(page);
    let injected_scripts = select(&html, "script")
        .into_iter()
        .filter(|text| text.trim() == "window.__pwned=1")
        .count();
    assert_eq!(
        injected_scripts, 0,
        "{what}: a script element from user text"
    );
    assert!(
        html.select(&Selector::parse("[onerror]").unwrap())
            .next()
            .is_none(),
        "{what}: an element with an event handler from user text"
    );
    let titles = select(&html, "title");
    assert_eq!(titles.len(), 1, "{what}: one title");
    assert!(
        !titles[0].contains("pwned") && !titles[0].contains("Synthetic"),
        "{what}: the title carries no name: {:?}",
        titles[0]
    );
    html
}

/// Stores a display name as an older version could have (today's rules refuse markup).
async fn set_display_name(server: &TestServer, user: i64, name: &str) {
    let name = name.replace('\'', "''");
    server
        .db()
        .await
        .execute(&format!(
            "UPDATE users SET display_name = '{name}' WHERE id = {user}"
        ))
        .await
        .expect("update display name");
}

#[tokio::test]
async fn markup_in_names_and_bodies_is_text_on_every_page() {
    let server = TestServer::start().await;
    let student = server.student("mallory").await;
    let doctor = server.psychiatrist("dr.inert").await;
    let s = Peer::connect(&server, &student, None).await;
    let ack = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    let conversation = ack["conversation"]["id"].as_i64().expect("id");
    let ack = s
        .call(
            "message:send",
            json!({ "conversationId": conversation, "clientId": client_id(), "body": MARKUP }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    set_display_name(&server, student.id, MARKUP).await;
    set_display_name(&server, doctor.id, MARKUP).await;

    let pages = [
        (&doctor, format!("/chat/{conversation}")),
        (&doctor, "/chat".to_owned()),
        (&student, format!("/chat/{conversation}")),
        (&student, "/chat".to_owned()),
    ];
    for (who, path) in pages {
        let res = server.get_page(&path, Some(&who.cookie)).await;
        assert_eq!(res.status(), 200, "{path}");
        let page = res.text().await.unwrap();
        let html = assert_inert(&page, &path);
        // The text is there, shown as text.
        let shown = select(&html, ".display-name, .peer-name, h1, .body").concat();
        assert!(
            shown.contains(MARKUP),
            "{path}: the markup is shown as text"
        );
        // An attribute built from a name holds the name, and nothing else.
        if path.contains(&conversation.to_string()) {
            let label = Selector::parse("section.conversation-pane").unwrap();
            let pane = html.select(&label).next().expect("conversation pane");
            assert_eq!(
                pane.value().attr("aria-label"),
                Some(format!("Conversation with {MARKUP}").as_str())
            );
            assert_eq!(select(&html, "title")[0], "Conversation · Haven");
        }
    }
}

#[tokio::test]
async fn display_names_with_markup_or_control_characters_are_refused() {
    let server = TestServer::start().await;
    for name in ["<b>Bold</b>", "Tom & Jerry", "evil\u{202E}gnp", "tab\there"] {
        let res = server
            .http()
            .post(server.url("/api/auth/register"))
            .json(&json!({ "username": "someone", "displayName": name, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "{name:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["error"]["fields"][0]["field"], "display_name",
            "{body}"
        );
        assert!(body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Display names cannot contain"));
    }
}

/// A form post as a browser on `origin` sends it.
async fn form_post(
    server: &TestServer,
    path: &str,
    body: &str,
    origin: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut req = server
        .http()
        .post(server.url(path))
        .header(ACCEPT, "text/html")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ORIGIN, origin)
        .body(body.to_owned());
    if let Some(cookie) = cookie {
        req = req.header(COOKIE, cookie);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn requests_from_other_origins_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let own = server.base.clone();
    let port: u16 = own.rsplit(':').next().unwrap().parse().unwrap();
    let other_port = format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1));
    let other_scheme = own.replace("http://", "https://");
    server.register_student("attacker").await;

    // Login CSRF: a page elsewhere signs the victim's browser into the attacker's account.
    for origin in [
        "http://evil.example",
        other_port.as_str(),
        other_scheme.as_str(),
    ] {
        let res = form_post(
            &server,
            "/api/form/login",
            &format!("role=student&username=attacker&password={PASSWORD}"),
            origin,
            None,
        )
        .await;
        assert_eq!(res.status(), 403, "{origin}");
        assert!(
            session_cookie(res.headers()).is_none(),
            "{origin}: no session"
        );
    }
    // The same form from the site itself works.
    let res = form_post(
        &server,
        "/api/form/login",
        &format!("role=student&username=attacker&password={PASSWORD}"),
        &own,
        None,
    )
    .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()[LOCATION], "/chat");

    // Registration from elsewhere creates no account.
    let res = form_post(
        &server,
        "/api/form/register",
        &format!("username=planted&display_name=Planted&password={PASSWORD}"),
        &other_port,
        None,
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(server.login("planted", PASSWORD, None).await.0, 401);

    // A page on another port posts a message as the signed-in victim: refused, not stored.
    let victim = server.student("victim").await;
    let doctor = server.psychiatrist("dr.csrf").await;
    let s = Peer::connect(&server, &victim, None).await;
    let ack = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    let conversation = ack["conversation"]["id"].as_i64().unwrap();
    let body = format!(
        "conversation_id={conversation}&client_id={}&body=forged",
        client_id()
    );
    let res = form_post(
        &server,
        "/api/form/post_message",
        &body,
        &other_port,
        Some(&victim.cookie),
    )
    .await;
    assert_eq!(res.status(), 403);
    // Fetch metadata alone is enough to tell.
    let res = server
        .http()
        .post(server.url("/api/form/post_message"))
        .header(COOKIE, &victim.cookie)
        .header("sec-fetch-site", "same-site")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Nor is a JSON API call or a sign-out from elsewhere taken.
    let res = server
        .http()
        .post(server.url("/api/auth/logout"))
        .header(COOKIE, &victim.cookie)
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        server.me_status(&victim.cookie).await,
        200,
        "still signed in"
    );
    let stored = server.messages_in(conversation).await;
    assert_eq!(stored, 0, "nothing was stored");

    // The site's own pages post the same message fine.
    let mut check = Peer::connect(&server, &doctor, None).await;
    let res = form_post(
        &server,
        "/api/form/post_message",
        &body,
        &own,
        Some(&victim.cookie),
    )
    .await;
    assert_eq!(res.status(), 302);
    assert_eq!(check.next("message:new").await["body"], "forged");
}

#[tokio::test]
async fn the_socket_handshake_compares_the_whole_origin() {
    let server = TestServer::start().await;
    let cookie = server.register_student("origins").await;
    let own = server.base.clone();
    let port: u16 = own.rsplit(':').next().unwrap().parse().unwrap();
    let refused = [
        own.replace("http://", "https://"),
        format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1)),
        "null".to_owned(),
    ];
    for origin in refused {
        let outcome = server
            .socket(&[("Cookie", &cookie), ("Origin", &origin)])
            .await;
        assert!(
            matches!(outcome, common::SocketOutcome::Refused(_)),
            "{origin}: {outcome:?}"
        );
    }
    assert_eq!(
        server
            .socket(&[("Cookie", &cookie), ("Origin", &own)])
            .await,
        common::SocketOutcome::Connected
    );
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = TestServer::start().await;
    let student = server.student("headers").await;
    let res = server.get_page("/login/student", None).await;
    let csp = header(&res, "content-security-policy").to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src")
        .to_owned();
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert_eq!(header(&res, "referrer-policy"), "no-referrer");
    assert!(res.headers().get("strict-transport-security").is_none());
    // Every inline script on the page carries this response's nonce.
    let page = res.text().await.unwrap();
    let html = Html::parse_document(&page);
    let inline: Vec<_> = html
        .select(&Selector::parse("script:not([src])").unwrap())
        .collect();
    assert!(!inline.is_empty());
    for script in inline {
        assert_eq!(script.value().attr("nonce"), Some(nonce.as_str()));
    }
    // A fresh nonce per response.
    let again = server.get_page("/login/student", None).await;
    assert!(!header(&again, "content-security-policy").contains(&nonce));

    // Signed-in pages and conversation data are never cached.
    let res = server.get_page("/chat", Some(&student.cookie)).await;
    assert_eq!(header(&res, "cache-control"), "no-store");
    let res = server
        .http()
        .post(server.url("/api/form/conversations"))
        .header(COOKIE, &student.cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "no-store");

    // Over https (behind a TLS proxy): HSTS and Secure cookies.
    let tls = TestServer::start_with(&[("HAVEN_PUBLIC_URL", "https://haven.example.test")]).await;
    let res = tls.get_page("/", None).await;
    assert!(header(&res, "strict-transport-security").contains("max-age="));
    let res = tls
        .http()
        .post(tls.url("/api/auth/register"))
        .json(&json!({ "username": "tls", "displayName": "T", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    for name in ["haven_session", "haven_role"] {
        assert!(set_cookie(res.headers(), name).unwrap().contains("Secure"));
    }
}

/// A raw Engine.IO WebSocket with the given cookie; answers the stream after the open packet.
async fn raw_socket(
    server: &TestServer,
    cookie: Option<&str>,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        server.base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    let open = ws.next().await.expect("open packet").expect("frame");
    assert!(open.to_text().unwrap().starts_with('0'), "{open:?}");
    ws
}

/// The next text frame that is not an Engine.IO ping (`2`).
async fn next_packet<S>(ws: &mut S) -> String
where
    S: StreamExt<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a packet in time")
            .expect("socket open")
            .expect("a frame");
        let text = frame.to_text().unwrap_or_default().to_owned();
        if text != "2" {
            return text;
        }
    }
}

/// Whether the server closes the socket within `wait` (answering pings meanwhile).
async fn closed_within<S>(ws: &mut S, wait: Duration) -> bool
where
    S: StreamExt<Item = Result<WsMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(WsMessage::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

#[tokio::test]
async fn an_oversized_socket_message_closes_the_connection_and_the_server_carries_on() {
    let server = TestServer::start().await;
    let cookie = server.register_student("bigsender").await;
    let mut ws = raw_socket(&server, Some(&cookie)).await;
    ws.send(WsMessage::text("40")).await.unwrap();
    let connected = next_packet(&mut ws).await;
    assert!(connected.starts_with("40"), "{connected}");
    let huge = format!(
        "42[\"message:send\",{{\"conversationId\":1,\"clientId\":\"{}\",\"body\":\"{}\"}}]",
        client_id(),
        "x".repeat(5 * 1024 * 1024)
    );
    let _ = ws.send(WsMessage::text(huge)).await;
    assert!(
        closed_within(&mut ws, Duration::from_secs(5)).await,
        "a 5 MB frame closes the socket"
    );
    let health = server
        .http()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // A normal-sized socket still works.
    let account = Account { cookie, id: 0 };
    let peer = Peer::connect(&server, &account, None).await;
    let ack = peer
        .call("conversation:open", json!({ "peerId": 999_999 }))
        .await;
    assert_eq!(ack["error"]["code"], "user_not_found");
}

#[tokio::test]
async fn a_transport_that_never_authenticates_is_closed() {
    let server = TestServer::start().await;
    // Opens the Engine.IO transport and never joins the namespace.
    let mut silent = raw_socket(&server, None).await;
    // Tries to join without a session: refused, then the transport is closed as well.
    let mut refused = raw_socket(&server, None).await;
    refused.send(WsMessage::text("40")).await.unwrap();
    let answer = next_packet(&mut refused).await;
    assert!(answer.starts_with("44"), "{answer}");
    assert!(closed_within(&mut silent, Duration::from_secs(9)).await);
    assert!(closed_within(&mut refused, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_request_whose_headers_never_end_is_cut_off() {
    let server = TestServer::start_with(&[("HAVEN_HEADER_TIMEOUT_SECS", "2")]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(8), tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection is closed by the server");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    // Complete requests are unaffected.
    let res = server
        .http()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_oversized_request_body_is_refused() {
    let server = TestServer::start().await;
    let res = server
        .http()
        .post(server.url("/api/auth/login"))
        .header(CONTENT_TYPE, "application/json")
        .body(format!(
            "{{\"username\":\"x\",\"password\":\"{}\"}}",
            "p".repeat(200_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn registrations_from_one_address_are_limited() {
    let server = TestServer::start_with(&[("HAVEN_REGISTRATIONS_PER_ADDRESS", "10")]).await;
    let attempts = (0..25).map(|i| {
        let http = server.http();
        let url = server.url("/api/auth/register");
        async move {
            http.post(url)
                .json(&json!({ "username": format!("burst-{i}"), "displayName": "B", "password": PASSWORD }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let register = |server: &TestServer, name: String, forwarded: &'static str| {
        let req = server
            .http()
            .post(server.url("/api/auth/register"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "username": name, "displayName": "P", "password": PASSWORD }));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // Behind a trusted proxy, each client has its own quota.
    let proxied = TestServer::start_with(&[
        ("HAVEN_REGISTRATIONS_PER_ADDRESS", "1"),
        ("HAVEN_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    assert_eq!(register(&proxied, "p-one".into(), "203.0.113.1").await, 200);
    assert_eq!(register(&proxied, "p-two".into(), "203.0.113.2").await, 200);
    assert_eq!(
        register(&proxied, "p-three".into(), "203.0.113.2").await,
        429
    );
    // Without one, the header is the client's own word and is ignored.
    let direct = TestServer::start_with(&[("HAVEN_REGISTRATIONS_PER_ADDRESS", "1")]).await;
    assert_eq!(register(&direct, "d-one".into(), "203.0.113.1").await, 200);
    assert_eq!(register(&direct, "d-two".into(), "203.0.113.2").await, 429);
}

#[tokio::test]
async fn a_burst_of_guesses_is_held_back_without_locking_the_owner_out() {
    let server = TestServer::start_with(&[("HAVEN_LOGIN_MAX_DELAY_SECS", "2")]).await;
    server.add_psychiatrist("dr.target").await;
    let guesses = (0..20).map(|i| {
        let http = server.http();
        let url = server.url("/api/auth/login");
        async move {
            http.post(url)
                .json(&json!({ "username": "dr.target", "password": format!("guess-number-{i}") }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    // Reserved before hashing: only the first five are even checked.
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    // Still held back right after, even with the right password…
    assert_eq!(
        server
            .login("dr.target", PASSWORD, Some("psychiatrist"))
            .await
            .0,
        429
    );
    // …but never for longer than the longest delay.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        server
            .login("dr.target", PASSWORD, Some("psychiatrist"))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_psychiatrist_cannot_start_a_conversation_or_probe_students() {
    let server = TestServer::start().await;
    let student = server.student("quiet").await;
    let doctor = server.psychiatrist("dr.probe").await;
    let s = Peer::connect(&server, &student, None).await;
    let mut p = Peer::connect(&server, &doctor, None).await;
    let refused = || async {
        for peer in [student.id, 999_999] {
            let ack = p.call("conversation:open", json!({ "peerId": peer })).await;
            assert_eq!(ack["ok"], false);
            assert_eq!(
                ack["error"]["code"], "conversation_not_found",
                "same answer for a real and an unknown student"
            );
            assert!(ack.get("conversation").is_none(), "{ack}");
        }
    };
    refused().await;
    // The plain-form path creates nothing either.
    let res = server
        .http()
        .post(server.url("/api/form/start_conversation"))
        .header(COOKIE, &doctor.cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("peer_id={}", student.id))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 302, "no redirect into a new conversation");
    refused().await;
    // Once the student writes first, the psychiatrist finds that conversation.
    let ack = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    let id = ack["conversation"]["id"].as_i64().unwrap();
    let ack = p
        .call("conversation:open", json!({ "peerId": student.id }))
        .await;
    assert_eq!(ack["conversation"]["id"].as_i64(), Some(id));
    // Only then was the psychiatrist introduced to the student's presence (once by each
    // side's open), and a second student's comes next: an introduction by the refused
    // attempts would have come first.
    let other = server.student("marker").await;
    let o = Peer::connect(&server, &other, None).await;
    o.call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    let about: Vec<_> = p
        .next_n("presence", 3)
        .await
        .iter()
        .map(|e| e["userId"].clone())
        .collect();
    assert_eq!(
        about,
        [json!(student.id), json!(student.id), json!(other.id)]
    );
}

#[tokio::test]
async fn a_socket_is_closed_when_its_session_outlives_its_absolute_lifetime() {
    // However active, the session ends 3 s after sign-in.
    let server = TestServer::start_with(&[
        ("HAVEN_SESSION_ABSOLUTE_SECS", "3"),
        ("HAVEN_SESSION_CHECK_SECS", "1"),
    ])
    .await;
    let student = server.student("timed").await;
    let mut s = Peer::connect(&server, &student, None).await;
    assert_eq!(server.me_status(&student.cookie).await, 200);
    assert!(s.closed_within(Duration::from_secs(6)).await);
    assert_eq!(server.me_status(&student.cookie).await, 401);
    assert!(matches!(
        server.socket(&[("Cookie", &student.cookie)]).await,
        common::SocketOutcome::Refused(_)
    ));
}

#[tokio::test]
async fn an_idle_sessions_socket_is_closed_and_an_active_ones_is_left_alone() {
    // No request for 2 s and the session is gone, sockets included.
    let server = TestServer::start_with(&[
        ("HAVEN_SESSION_IDLE_SECS", "2"),
        ("HAVEN_SESSION_CHECK_SECS", "1"),
    ])
    .await;
    let idle = server.student("idle").await;
    let active = server.student("active").await;
    let mut gone = Peer::connect(&server, &idle, None).await;
    let kept = Peer::connect(&server, &active, None).await;
    // The active student makes a request every half second until the watch has closed the
    // idle one's socket: the same passes checked theirs.
    let keep_alive = async {
        loop {
            assert_eq!(server.me_status(&active.cookie).await, 200);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    };
    tokio::select! {
        closed = gone.closed_within(Duration::from_secs(6)) => assert!(closed),
        _ = keep_alive => unreachable!(),
    }
    let ack = kept
        .call("typing", json!({ "conversationId": 0, "typing": true }))
        .await;
    assert_eq!(
        ack["error"]["code"], "conversation_not_found",
        "the active session's socket still answers: {ack}"
    );
}

#[tokio::test]
async fn an_https_deployment_refuses_to_start_with_demo_accounts() {
    let server = TestServer::start().await;
    let (ok, _, _) = server.cli(&["seed-demo"], "").await;
    assert!(ok);
    let https = [("HAVEN_PUBLIC_URL", "https://haven.example.test")];
    let serve = ["serve", "--addr", "127.0.0.1:0"];
    let (ok, _, err) = server.cli_with_env(&serve, "", &https).await;
    assert!(!ok, "refused to start");
    assert!(err.contains("seed-demo --remove"), "{err}");
    let (ok, out, _) = server.cli(&["seed-demo", "--remove"], "").await;
    assert!(ok && out.contains("removed 4"), "{out}");
    assert_eq!(
        server
            .login("dr.okafor", "haven-demo-password", None)
            .await
            .0,
        401
    );
    // Now it starts (and is stopped by the timeout).
    let started = tokio::time::timeout(
        Duration::from_secs(3),
        server.cli_with_env(&serve, "", &https),
    )
    .await;
    assert!(started.is_err(), "still serving after 3 s");
}
