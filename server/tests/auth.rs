//! Accounts and sessions over HTTP, against the real server.

mod common;

use common::{session_cookie, set_cookie, TestServer, PASSWORD};
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, REFERER, RETRY_AFTER};
use serde_json::json;

#[tokio::test]
async fn student_registers_sees_chat_and_logs_out() {
    let server = TestServer::start().await;
    let cookie = server.register_student("Student.One").await;

    let me = server.me(&cookie).await;
    assert_eq!(me.status(), 200);
    let body: serde_json::Value = me.json().await.unwrap();
    assert_eq!(
        body["user"]["username"], "student.one",
        "usernames are stored lowercase"
    );
    assert_eq!(body["user"]["role"], "student");
    assert!(body["user"].get("passwordHash").is_none() && !body.to_string().contains("argon2"));

    // The chat page renders on the server for a signed-in user.
    let page = server.get_page("/chat", Some(&cookie)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Synthetic Student") && html.contains("Talk to a psychiatrist"),
        "{html}"
    );

    assert_eq!(server.logout(&cookie).await, 204);
    assert_eq!(
        server.me_status(&cookie).await,
        401,
        "the session is deleted server side"
    );
}

#[tokio::test]
async fn plain_form_posts_work_without_javascript() {
    let server = TestServer::start().await;
    // Registration as a browser without JS posts it: form-encoded, accepting HTML.
    let res = server
        .http()
        .post(server.url("/api/form/register"))
        .header(ACCEPT, "text/html")
        .header(REFERER, server.url("/register"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "username=nojs&display_name=No+Script&password={PASSWORD}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()[LOCATION],
        "/chat/recovery-code",
        "the new recovery code comes first"
    );
    let cookie = session_cookie(res.headers()).expect("session cookie");
    let page = server.get_page("/chat", Some(&cookie)).await;
    assert!(page.text().await.unwrap().contains("No Script"));

    // A failing sign-in comes back to the page with the error, rendered on the server.
    let res = server
        .http()
        .post(server.url("/api/form/login"))
        .header(ACCEPT, "text/html")
        .header(REFERER, server.url("/login/student"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("role=student&username=nojs&password=not-the-password")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let back = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(back.contains("/login/student?"), "{back}");
    let path = back.trim_start_matches(&server.base);
    let page = server.get_page(path, None).await.text().await.unwrap();
    assert!(page.contains("Incorrect username or password."), "{page}");

    // Haven's pages send no Referer (Referrer-Policy: no-referrer): the form still comes
    // back to its own page, with the error.
    let res = server
        .http()
        .post(server.url("/api/form/login"))
        .header(ACCEPT, "text/html")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("role=psychiatrist&username=nojs&password=not-the-password")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let back = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(back.starts_with("/login/psychiatrist?"), "{back}");
    let page = server.get_page(&back, None).await.text().await.unwrap();
    assert!(page.contains("Incorrect username or password."), "{page}");

    // The same endpoint called by the hydrated app answers with a real status.
    let res = server
        .http()
        .post(server.url("/api/form/login"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("role=student&username=nojs&password=not-the-password")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn registration_rules_are_enforced_with_field_messages() {
    let server = TestServer::start().await;
    let register = |username: &'static str, password: &'static str| {
        let http = server.http();
        let url = server.url("/api/auth/register");
        async move {
            let res = http
                .post(url)
                .json(&json!({ "username": username, "displayName": "X", "password": password }))
                .send()
                .await
                .unwrap();
            (
                res.status().as_u16(),
                res.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = register("ok-name", "short").await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "password");

    let (status, body) = register("no spaces!", PASSWORD).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "username");

    assert_eq!(register("Taken.Name", PASSWORD).await.0, 200);
    let (status, body) = register("taken.NAME", PASSWORD).await;
    assert_eq!(status, 422, "usernames are unique case-insensitively");
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "That username is taken."
    );

    let bad = server
        .http()
        .post(server.url("/api/auth/register"))
        .header(CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let server = TestServer::start().await;
    server.register_student("known").await;
    let (status_wrong, body_wrong, cookie) = server.login("known", "wrong-password!", None).await;
    assert_eq!(status_wrong, 401);
    assert!(cookie.is_none());
    let (status_unknown, body_unknown, _) =
        server.login("nobody-here", "wrong-password!", None).await;
    assert_eq!(status_unknown, 401);
    assert_eq!(
        body_wrong, body_unknown,
        "the answer must not tell whether the username exists"
    );
    assert_eq!(body_wrong["error"]["code"], "invalid_credentials");

    let (status, body, cookie) = server.login("KNOWN", PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(cookie.is_some());
}

#[tokio::test]
async fn each_role_signs_in_on_its_own_page_only() {
    let server = TestServer::start().await;
    server.add_psychiatrist("dr.test").await;
    server.register_student("stu").await;

    let (status, body, _) = server
        .login("dr.test", PASSWORD, Some("psychiatrist"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["role"], "psychiatrist");

    let (status, body, cookie) = server.login("dr.test", PASSWORD, Some("student")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "wrong_role");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/login/psychiatrist"));
    assert!(cookie.is_none(), "no session on the wrong page");

    let (status, _, _) = server.login("stu", PASSWORD, Some("psychiatrist")).await;
    assert_eq!(status, 403);

    // The CLI refuses a duplicate and a weak password.
    let (ok, _, err) = server
        .cli(
            &[
                "user",
                "add",
                "--role",
                "psychiatrist",
                "--username",
                "DR.TEST",
                "--display-name",
                "Dup",
            ],
            "another-long-password\n",
        )
        .await;
    assert!(!ok && err.contains("taken"), "{err}");
    let (ok, _, err) = server
        .cli(
            &[
                "user",
                "add",
                "--role",
                "psychiatrist",
                "--username",
                "dr.weak",
                "--display-name",
                "Weak",
            ],
            "short\n",
        )
        .await;
    assert!(!ok && err.contains("at least 10"), "{err}");
}

#[tokio::test]
async fn repeated_failures_are_slowed_down() {
    let server = TestServer::start().await;
    server.register_student("target").await;
    for attempt in 0..5 {
        let (status, _, _) = server.login("target", "guess-guess-guess", None).await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let res = server
        .http()
        .post(server.url("/api/auth/login"))
        .json(&json!({ "username": "target", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "even the right password waits once the limit is reached"
    );
    let retry: u64 = res.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 5 * 60);
    // Other usernames from this address are not held back.
    server.register_student("bystander").await;
    assert_eq!(server.login("bystander", PASSWORD, None).await.0, 200);
    // The wait is short after the first failures over the limit: the owner gets in.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(server.login("target", PASSWORD, None).await.0, 200);
}

#[tokio::test]
async fn too_many_failures_from_one_address_are_slowed_down() {
    let server = TestServer::start_with(&[("HAVEN_LOGIN_FAILURES_PER_ADDRESS", "3")]).await;
    for name in ["a-one", "a-two", "a-three"] {
        assert_eq!(server.login(name, "guess-guess-guess", None).await.0, 401);
    }
    assert_eq!(
        server.login("a-four", "guess-guess-guess", None).await.0,
        429
    );
}

#[tokio::test]
async fn session_cookie_is_httponly_lax_and_rotates_at_login() {
    let server = TestServer::start().await;
    server.register_student("rotating").await;
    let (_, _, first) = server.login("rotating", PASSWORD, None).await;
    let first = first.unwrap();
    let res = server
        .http()
        .post(server.url("/api/auth/login"))
        .header(COOKIE, &first)
        .json(&json!({ "username": "rotating", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let raw = set_cookie(res.headers(), "haven_session").unwrap();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    assert!(
        !raw.contains("Secure"),
        "an http:// public URL serves plain HTTP"
    );
    let second = session_cookie(res.headers()).unwrap();
    assert_ne!(first, second, "a new session id at login");
    assert_eq!(server.me_status(&first).await, 401, "the old id is gone");

    // Behind a TLS proxy Haven listens on loopback; the public URL says https.
    let secure =
        TestServer::start_with(&[("HAVEN_PUBLIC_URL", "https://haven.example.test")]).await;
    let res = secure
        .http()
        .post(secure.url("/api/auth/register"))
        .json(&json!({ "username": "sec", "displayName": "S", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(set_cookie(res.headers(), "haven_session")
        .unwrap()
        .contains("Secure"));
}

#[tokio::test]
async fn sessions_expire_after_inactivity() {
    let server = TestServer::start_with(&[("HAVEN_SESSION_IDLE_SECS", "1")]).await;
    let cookie = server.register_student("sleepy").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(server.me_status(&cookie).await, 401);
}

#[tokio::test]
async fn psychiatrists_are_signed_out_after_their_shorter_inactivity_limit() {
    let server = TestServer::start_with(&[
        // Three seconds: a request every 0.9 s keeps it alive even when six test servers
        // hash passwords on two cores at once.
        ("HAVEN_PSYCHIATRIST_IDLE_SECS", "3"),
        ("HAVEN_SESSION_CHECK_SECS", "1"),
    ])
    .await;
    let doctor = server.psychiatrist("dr.idle").await;
    let student = server.student("stu.idle").await;
    // Activity keeps it alive past the limit.
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        assert_eq!(server.me_status(&doctor.cookie).await, 200);
    }
    let mut socket = common::Peer::connect(&server, &doctor, None).await;
    // Three seconds without a request: the session is gone, and its socket with it. The
    // student's session has the ordinary limit.
    assert!(
        socket
            .closed_within(std::time::Duration::from_secs(8))
            .await
    );
    assert_eq!(server.me_status(&doctor.cookie).await, 401);
    assert_eq!(server.me_status(&student.cookie).await, 200);
}

#[tokio::test]
async fn a_shared_computer_session_ends_with_the_browser_or_when_idle() {
    let server = TestServer::start_with(&[("HAVEN_SHARED_IDLE_SECS", "2")]).await;
    server.register_student("stu.shared").await;
    let res = server
        .http()
        .post(server.url("/api/auth/login"))
        .json(&json!({ "username": "stu.shared", "password": PASSWORD, "shared": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = set_cookie(res.headers(), "haven_session").expect("session cookie");
    let lower = cookie.to_ascii_lowercase();
    assert!(
        !lower.contains("max-age") && !lower.contains("expires"),
        "a browser-session cookie: {cookie}"
    );
    assert!(lower.contains("httponly"), "still HttpOnly: {cookie}");
    assert!(
        set_cookie(res.headers(), "haven_role").is_none(),
        "no trace of the role on a shared computer"
    );
    let cookie = session_cookie(res.headers()).unwrap();
    // Later responses keep the cookie a browser-session one.
    let me = server.me(&cookie).await;
    assert_eq!(me.status(), 200);
    let again = set_cookie(me.headers(), "haven_session").expect("the cookie is renewed");
    assert!(!again.to_ascii_lowercase().contains("max-age"), "{again}");
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    assert_eq!(server.me_status(&cookie).await, 401);

    // Without the box, the same student keeps the ordinary session and the role hint.
    let (status, _, ordinary) = server.login("stu.shared", PASSWORD, None).await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    assert_eq!(server.me_status(&ordinary.unwrap()).await, 200);
}

#[tokio::test]
async fn protected_pages_redirect_to_the_right_sign_in_page() {
    let server = TestServer::start().await;
    // By the server (303), before any JavaScript, keeping where the visitor was going.
    for (path, next) in [
        ("/chat", "%2Fchat"),
        ("/chat/7", "%2Fchat%2F7"),
        ("/chat/settings", "%2Fchat%2Fsettings"),
    ] {
        let res = server.get_page(path, None).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(
            res.headers()[LOCATION],
            format!("/login/student?next={next}").as_str()
        );
    }
    // A psychiatrist whose session ended goes back to their own page.
    let res = server
        .get_page(
            "/chat",
            Some("haven_role=psychiatrist; haven_session=expired"),
        )
        .await;
    assert_eq!(res.headers()[LOCATION], "/login/psychiatrist?next=%2Fchat");
    let page = server
        .get_page("/login/student?next=%2Fchat%2F7", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="next" value="/chat/7""#), "{page}");

    // Signing in (a plain form) goes back there; never to another site.
    server.register_student("returning").await;
    for (next, lands) in [("%2Fchat%2F7", "/chat/7"), ("%2F%2Fevil.example", "/chat")] {
        let res = server
            .http()
            .post(server.url("/api/form/login"))
            .header(ACCEPT, "text/html")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!(
                "role=student&username=returning&password={PASSWORD}&next={next}"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
        assert_eq!(res.headers()[LOCATION], lands);
    }
}

#[tokio::test]
async fn pages_are_rendered_on_the_server() {
    let server = TestServer::start().await;
    for (path, text) in [
        ("/", "Create a student account"),
        ("/register", "Create your student account"),
        ("/login/student", "Student sign in"),
        ("/login/psychiatrist", "Psychiatrist sign in"),
    ] {
        let res = server.get_page(path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains(text), "{path} shows {text:?}");
        if path != "/" {
            assert!(
                html.contains("<label for=\"username\""),
                "{path} labels its fields"
            );
        }
    }
    assert_eq!(server.get_page("/no/such/page", None).await.status(), 404);
    assert_eq!(
        server
            .http()
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn seed_demo_creates_accounts_in_bulk_and_is_idempotent() {
    let server = TestServer::start().await;
    let args = [
        "seed-demo",
        "--students",
        "5000",
        "--psychiatrists",
        "5000",
        "--prefix",
        "load",
        "--password",
        "bench-password",
    ];
    let (ok, out, err) = server.cli(&args, "").await;
    assert!(ok, "{err}");
    assert!(out.contains("10000 created"), "{out}");
    let (ok, out, _) = server.cli(&args, "").await;
    assert!(ok && out.contains("0 created"), "{out}");
    assert_eq!(
        server
            .login("load-s4999", "bench-password", Some("student"))
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .login("load-p0", "bench-password", Some("psychiatrist"))
            .await
            .0,
        200
    );

    let (ok, out, _) = server.cli(&["seed-demo"], "").await;
    assert!(ok && out.contains("dr.okafor"), "{out}");
}

#[tokio::test]
async fn an_administrator_resets_a_password_and_every_session_ends() {
    let server = TestServer::start_with(&[("HAVEN_SESSION_CHECK_SECS", "1")]).await;
    let student = server.student("forgetful").await;
    let (_, _, other) = server.login("forgetful", PASSWORD, None).await;
    let other = other.expect("a second session");
    let mut socket = common::Peer::connect(&server, &student, None).await;

    let new_password = "a-new-synthetic-passphrase";
    let reset = ["user", "reset-password", "--username", "Forgetful"];
    let (ok, out, err) = server.cli(&reset, &format!("{new_password}\n")).await;
    assert!(ok, "{err}");
    assert!(out.contains("sessions ended"), "{out}");
    for cookie in [&student.cookie, &other] {
        assert_eq!(server.me_status(cookie).await, 401, "signed out everywhere");
    }
    assert!(
        socket
            .closed_within(std::time::Duration::from_secs(5))
            .await
    );
    assert_eq!(server.login("forgetful", PASSWORD, None).await.0, 401);
    assert_eq!(server.login("forgetful", new_password, None).await.0, 200);

    // A weak password or an unknown account is refused, and says why.
    let (ok, _, err) = server.cli(&reset, "short\n").await;
    assert!(!ok && err.contains("at least"), "{err}");
    let unknown = ["user", "reset-password", "--username", "nobody.here"];
    let (ok, _, err) = server.cli(&unknown, &format!("{new_password}\n")).await;
    assert!(!ok && err.contains("No account has this username"), "{err}");
}

/// Five groups of four symbols of Crockford's base32, joined by dashes.
fn looks_like_a_code(code: &str) -> bool {
    let groups: Vec<&str> = code.split('-').collect();
    groups.len() == 5
        && groups.iter().all(|g| {
            g.len() == 4
                && g.chars()
                    .all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c)))
        })
}

/// Registers over the JSON API; answers the session cookie and the recovery code shown.
async fn register_with_code(server: &TestServer, username: &str) -> (String, String) {
    let res = server
        .http()
        .post(server.url("/api/auth/register"))
        .json(&json!({ "username": username, "displayName": "Synthetic Student", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(res.headers()).expect("session cookie");
    let body: serde_json::Value = res.json().await.unwrap();
    let code = body["recoveryCode"]
        .as_str()
        .expect("a recovery code")
        .to_owned();
    (cookie, code)
}

/// `POST /api/auth/recover`; answers status, body and the new session cookie if any.
async fn recover(
    server: &TestServer,
    username: &str,
    code: &str,
    new_password: &str,
) -> (u16, serde_json::Value, Option<String>) {
    let res = server
        .http()
        .post(server.url("/api/auth/recover"))
        .json(&json!({ "username": username, "recoveryCode": code, "newPassword": new_password }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let cookie = session_cookie(res.headers());
    (status, res.json().await.unwrap_or_default(), cookie)
}

#[tokio::test]
async fn a_recovery_code_sets_a_new_password_once_and_ends_every_session() {
    let server = TestServer::start_with(&[("HAVEN_SESSION_CHECK_SECS", "1")]).await;
    let (first, code) = register_with_code(&server, "forgot.it").await;
    assert!(looks_like_a_code(&code), "{code}");
    let (_, body, second) = server.login("forgot.it", PASSWORD, None).await;
    let second = second.expect("a second session");
    let student = common::Account {
        cookie: second.clone(),
        id: body["user"]["id"].as_i64().unwrap(),
    };
    let mut socket = common::Peer::connect(&server, &student, None).await;

    // A wrong code and an unknown username get the same answer.
    let wrong = "0000-0000-0000-0000-0000";
    let (status, refused, cookie) = recover(&server, "forgot.it", wrong, "a-new-passphrase!").await;
    assert_eq!((status, cookie), (401, None));
    assert_eq!(refused["error"]["code"], "invalid_recovery_code");
    let (_, unknown, _) = recover(&server, "nobody.at.all", wrong, "a-new-passphrase!").await;
    assert_eq!(
        refused, unknown,
        "the answer must not tell whether the username exists"
    );

    // Typed as people type it: lower case, spaces instead of dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let new_password = "a-new-synthetic-passphrase";
    let (status, body, cookie) = recover(&server, "Forgot.It", &typed, new_password).await;
    assert_eq!(status, 200, "{body}");
    let signed_in = cookie.expect("recovery signs this browser in");
    assert_eq!(server.me_status(&signed_in).await, 200);
    let next = body["recoveryCode"].as_str().expect("the next code");
    assert!(
        looks_like_a_code(next) && next != code,
        "a new code replaces the used one"
    );

    for old in [&first, &second] {
        assert_eq!(server.me_status(old).await, 401, "every old session ended");
    }
    assert!(
        socket
            .closed_within(std::time::Duration::from_secs(5))
            .await
    );
    assert_eq!(server.login("forgot.it", PASSWORD, None).await.0, 401);
    assert_eq!(server.login("forgot.it", new_password, None).await.0, 200);

    // The used code works no more; the new one does.
    assert_eq!(
        recover(&server, "forgot.it", &code, "yet-another-passphrase")
            .await
            .0,
        401
    );
    assert_eq!(
        recover(&server, "forgot.it", next, "yet-another-passphrase")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn recovery_form_mistakes_are_told_at_their_fields_and_guesses_are_throttled() {
    let server = TestServer::start().await;
    let (_, code) = register_with_code(&server, "careful").await;
    let (status, body, _) = recover(&server, "careful", "not a code", "a-new-passphrase!").await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "recovery_code");
    let (status, body, _) = recover(&server, "careful", &code, "short").await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "password");

    // Guesses count with sign-in failures: five, then even the right code waits.
    for guess in 0..5 {
        let wrong = format!("{guess:04}-0000-0000-0000-0000");
        assert_eq!(
            recover(&server, "careful", &wrong, "a-new-passphrase!")
                .await
                .0,
            401
        );
    }
    let (status, body, _) = recover(&server, "careful", &code, "a-new-passphrase!").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(server.login("careful", PASSWORD, None).await.0, 429);
}

#[tokio::test]
async fn the_recovery_code_is_shown_once_and_psychiatrists_have_none() {
    let server = TestServer::start().await;
    // Through the registration form, as a browser without JavaScript posts it.
    let res = server
        .http()
        .post(server.url("/api/form/register"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "text/html")
        .body(format!(
            "username=shown.once&display_name=Synthetic+Student&password={PASSWORD}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[LOCATION], "/chat/recovery-code");
    let cookie = session_cookie(res.headers()).unwrap();
    let page = server.page_text("/chat/recovery-code", &cookie).await;
    let html = scraper::Html::parse_document(&page);
    let shown = common::select(&html, "#recovery-code");
    assert_eq!(shown.len(), 1, "{page}");
    let download = server
        .get_page("/account/recovery-code.txt", Some(&cookie))
        .await;
    assert_eq!(download.status(), 200);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = download.text().await.unwrap();
    assert!(
        text.contains(&shown[0]) && text.contains("shown.once"),
        "{text}"
    );

    // "I have saved it": the code is gone from the page and the download.
    let status = common::form_post(
        &server,
        "/api/form/recovery_code_saved",
        &cookie,
        String::new(),
    )
    .await;
    assert!(status == 302 || status == 303, "{status}");
    let page = server.page_text("/chat/recovery-code", &cookie).await;
    assert!(!page.contains(&shown[0]));
    assert!(page.contains("shown only once"));
    let gone = server
        .get_page("/account/recovery-code.txt", Some(&cookie))
        .await;
    assert_eq!(gone.status(), 404);
    // It still works, though: it was saved, not spent.
    assert_eq!(
        recover(&server, "shown.once", &shown[0], "a-new-passphrase!")
            .await
            .0,
        200
    );

    // A psychiatrist's account has no code to guess at.
    server.add_psychiatrist("dr.nocode").await;
    let (status, body, _) = recover(
        &server,
        "dr.nocode",
        "0000-0000-0000-0000-0000",
        "a-new-passphrase!",
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_recovery_code"))
    );
}

#[tokio::test]
async fn a_student_makes_a_new_recovery_code_with_their_password() {
    let server = TestServer::start().await;
    let (cookie, old) = register_with_code(&server, "new.code").await;
    let form = |password: &str| format!("password={password}");
    let status = common::form_post(
        &server,
        "/api/form/new_recovery_code",
        &cookie,
        form("wrong-password!"),
    )
    .await;
    assert!(status == 302 || status == 303, "{status}");
    assert!(
        server
            .page_text("/chat/recovery-code", &cookie)
            .await
            .contains("shown only once"),
        "a wrong password makes no code"
    );
    let status = common::form_post(
        &server,
        "/api/form/new_recovery_code",
        &cookie,
        form(PASSWORD),
    )
    .await;
    assert!(status == 302 || status == 303, "{status}");
    let page = server.page_text("/chat/recovery-code", &cookie).await;
    let shown = common::select(&scraper::Html::parse_document(&page), "#recovery-code");
    assert_eq!(shown.len(), 1, "{page}");
    assert_ne!(shown[0], old);
    assert_eq!(
        recover(&server, "new.code", &old, "a-new-passphrase!")
            .await
            .0,
        401,
        "the old code stopped working"
    );
    assert_eq!(
        recover(&server, "new.code", &shown[0], "a-new-passphrase!")
            .await
            .0,
        200
    );
}
