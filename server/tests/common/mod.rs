//! Starts the real `haven` binary on an ephemeral port with a fresh database, and talks to
//! it over HTTP and Socket.IO like any client would.
//!
//! The database is a SQLite file in a temporary folder, or, when `HAVEN_TEST_BACKEND` is
//! `postgres`, a fresh database on the server `HAVEN_TEST_DATABASE_URL` names (`make test`
//! runs the whole suite both ways; `scripts/test/with-postgres.sh` provides the server).
#![allow(dead_code)] // each test file uses a different part of the harness

use std::process::Stdio;
use std::time::Duration;

use futures_util::FutureExt;
use reqwest::header::{HeaderMap, ACCEPT, COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;
use rust_socketio::asynchronous::{Client as SocketClient, ClientBuilder};
use rust_socketio::Payload;
use scraper::{Html, Selector};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

pub const BIN: &str = env!("CARGO_BIN_EXE_haven");
pub const PASSWORD: &str = "a-synthetic-passphrase";
/// The crisis resources every test server shows: the documented example.
pub const CRISIS_RESOURCES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../docs/crisis-resources.example.toml"
);

/// A running server with its own database; killed on drop.
pub struct TestServer {
    pub base: String,
    pub database_url: String,
    env: Vec<(String, String)>,
    child: Child,
    dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with default settings.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra environment variables.
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        let database_url = if on_postgres() {
            Some(fresh_postgres_database().await)
        } else {
            None
        };
        Self::start_on(database_url, env).await
    }

    /// Starts a server on the database `url` (`None`: a fresh SQLite file of its own,
    /// whichever backend this run tests).
    pub async fn start_on(url: Option<String>, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url =
            url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("haven.db").display()));
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (child, base) = Self::spawn(&dir, &database_url, &env).await;
        Self {
            base,
            database_url,
            env,
            child,
            dir,
        }
    }

    /// The SQLite database file itself (its log is beside it, in `haven.db-wal`); `None`
    /// on PostgreSQL.
    pub fn database_file(&self) -> Option<std::path::PathBuf> {
        self.database_url
            .starts_with("sqlite:")
            .then(|| self.dir.path().join("haven.db"))
    }

    /// A connection to this server's database, to look at or alter what it stored.
    pub async fn db(&self) -> TestDb {
        TestDb::connect(&self.database_url).await
    }

    /// How many messages `conversation` holds, read from the database.
    pub async fn messages_in(&self, conversation: i64) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM messages WHERE conversation_id = {conversation}");
        self.db().await.number(&sql).await
    }

    /// Kills the server without warning (SIGKILL) and starts it again on the same database.
    pub async fn restart(&mut self) {
        self.child.kill().await.expect("kill haven");
        let (child, base) = Self::spawn(&self.dir, &self.database_url, &self.env).await;
        self.child = child;
        self.base = base;
    }

    /// Kills the server without warning (SIGKILL), as a machine that dies would.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("kill haven");
    }

    /// Asks the server to stop (SIGTERM, as a service manager would) and waits for it;
    /// answers whether it exited successfully in time.
    pub async fn stop(&mut self) -> bool {
        let pid = self.child.id().expect("haven is running") as libc::pid_t;
        // SAFETY: sends a signal to our own child process; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM sent");
        match tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => false,
        }
    }

    async fn spawn(
        dir: &tempfile::TempDir,
        database_url: &str,
        env: &[(String, String)],
    ) -> (Child, String) {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ROOT", dir.path())
            .env("HAVEN_LOG", "warn")
            .env("HAVEN_CRISIS_RESOURCES", CRISIS_RESOURCES)
            // Tests register many students from one address; the registration throttle has
            // a test of its own.
            .env("HAVEN_REGISTRATIONS_PER_ADDRESS", "10000")
            // Several test servers share two cores: one may fall 100 ms behind for a moment
            // and answer `busy`, which a browser would offer again and these tests' clients
            // do not. The `busy` rule has a test of its own, at the real limit.
            .env("HAVEN_BUSY_AFTER_MS", "5000")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start haven");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("haven printed its URL in time")
            .expect("read stdout")
            .expect("haven exited before listening");
        let base = line
            .rsplit_once(' ')
            .map(|(_, url)| url.to_owned())
            .expect("URL in the first line");
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (child, base)
    }

    /// Runs `haven <args>` against this server's database, feeding `stdin`; answers stdout.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> (bool, String, String) {
        self.cli_with_env(args, stdin, &[]).await
    }

    /// [`TestServer::cli`] with extra environment variables.
    pub async fn cli_with_env(
        &self,
        args: &[&str],
        stdin: &str,
        env: &[(&str, &str)],
    ) -> (bool, String, String) {
        let mut child = Command::new(BIN)
            .args(args)
            .env("HAVEN_CRISIS_RESOURCES", CRISIS_RESOURCES)
            .envs(env.iter().copied())
            .env("DATABASE_URL", &self.database_url)
            .env("HAVEN_LOG", "warn")
            .kill_on_drop(true)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run haven cli");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("write stdin");
        drop(input);
        let out = child.wait_with_output().await.expect("cli output");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Creates a psychiatrist the way an administrator does, with [`PASSWORD`].
    pub async fn add_psychiatrist(&self, username: &str) {
        let (ok, _, err) = self
            .cli(
                &[
                    "user",
                    "add",
                    "--role",
                    "psychiatrist",
                    "--username",
                    username,
                    "--display-name",
                    "Dr. Synthetic",
                ],
                &format!("{PASSWORD}\n"),
            )
            .await;
        assert!(ok, "user add failed: {err}");
    }

    /// An HTTP client that does not follow redirects and keeps no cookies of its own.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("http client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers a student; answers the session cookie and the user id.
    pub async fn student(&self, username: &str) -> Account {
        let cookie = self.register_student(username).await;
        let (_, body, _) = self.login(username, PASSWORD, None).await;
        Account {
            cookie,
            id: body["user"]["id"].as_i64().expect("id"),
        }
    }

    /// Creates a psychiatrist with the CLI and signs in.
    pub async fn psychiatrist(&self, username: &str) -> Account {
        self.add_psychiatrist(username).await;
        let (status, body, cookie) = self.login(username, PASSWORD, Some("psychiatrist")).await;
        assert_eq!(status, 200);
        Account {
            cookie: cookie.expect("cookie"),
            id: body["user"]["id"].as_i64().expect("id"),
        }
    }

    /// Registers a student showing `display_name`; answers the account.
    pub async fn student_named(&self, username: &str, display_name: &str) -> Account {
        let res = self
            .http()
            .post(self.url("/api/auth/register"))
            .json(
                &json!({ "username": username, "displayName": display_name, "password": PASSWORD }),
            )
            .send()
            .await
            .expect("register");
        assert_eq!(res.status(), 200, "register {username}");
        let cookie = session_cookie(res.headers()).expect("session cookie");
        let body: Value = res.json().await.expect("json");
        Account {
            cookie,
            id: body["user"]["id"].as_i64().expect("id"),
        }
    }

    /// Registers a student over the JSON API; answers the session cookie.
    pub async fn register_student(&self, username: &str) -> String {
        let res = self.register(username).await;
        assert_eq!(res.status(), 200, "register {username}");
        session_cookie(res.headers()).expect("session cookie")
    }

    /// Asks to register a student over the JSON API, whatever the answer.
    pub async fn register(&self, username: &str) -> reqwest::Response {
        self.http()
            .post(self.url("/api/auth/register"))
            .json(&json!({ "username": username, "displayName": "Synthetic Student", "password": PASSWORD }))
            .send()
            .await
            .expect("register")
    }

    /// Logs in over the JSON API; answers status, body and the session cookie if any.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        role: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        let res = self
            .http()
            .post(self.url("/api/auth/login"))
            .json(&json!({ "username": username, "password": password, "role": role }))
            .send()
            .await
            .expect("login");
        let status = res.status().as_u16();
        let cookie = session_cookie(res.headers());
        let body = res.json().await.unwrap_or(Value::Null);
        (status, body, cookie)
    }

    /// Signs out over the JSON API; answers the status.
    pub async fn logout(&self, cookie: &str) -> u16 {
        self.http()
            .post(self.url("/api/auth/logout"))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("logout")
            .status()
            .as_u16()
    }

    /// `GET /api/auth/me` with this cookie.
    pub async fn me(&self, cookie: &str) -> reqwest::Response {
        self.http()
            .get(self.url("/api/auth/me"))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("me")
    }

    /// The status of `GET /api/auth/me` with this cookie.
    pub async fn me_status(&self, cookie: &str) -> u16 {
        self.me(cookie).await.status().as_u16()
    }

    /// A server function called as the page's script calls it (a form-encoded POST, no
    /// `Accept: text/html`): the status and the answer (JSON, or the text if it is not).
    pub async fn server_fn(&self, name: &str, cookie: &str, form: &str) -> (u16, Value) {
        let res = self
            .http()
            .post(self.url(&format!("/api/form/{name}")))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&body).unwrap_or(Value::String(body)),
        )
    }

    /// A signed-in page's HTML (asserting it answered 200).
    pub async fn page_text(&self, path: &str, cookie: &str) -> String {
        let res = self.get_page(path, Some(cookie)).await;
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.expect("page body")
    }

    /// GET as a browser navigating (Accept: text/html), with an optional cookie header.
    pub async fn get_page(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.http().get(self.url(path)).header(ACCEPT, "text/html");
        if let Some(cookie) = cookie {
            req = req.header(COOKIE, cookie);
        }
        req.send().await.expect("get page")
    }

    /// Opens a Socket.IO connection with the given headers and reports what happened.
    pub async fn socket(&self, headers: &[(&str, &str)]) -> SocketOutcome {
        let (tx, mut rx) = mpsc::unbounded_channel::<Result<(), String>>();
        // rust_socketio calls the namespace CONNECT "open".
        let on_connect = tx.clone();
        let on_error = tx;
        let mut builder = ClientBuilder::new(self.base.clone())
            .reconnect(false)
            .on("open", move |_: Payload, _: SocketClient| {
                let tx = on_connect.clone();
                async move {
                    let _ = tx.send(Ok(()));
                }
                .boxed()
            })
            .on("error", move |payload: Payload, _: SocketClient| {
                let tx = on_error.clone();
                async move {
                    let _ = tx.send(Err(format!("{payload:?}")));
                }
                .boxed()
            });
        for (k, v) in headers {
            builder = builder.opening_header(*k, *v);
        }
        let client = match builder.connect().await {
            Ok(client) => client,
            Err(e) => return SocketOutcome::Refused(e.to_string()),
        };
        let outcome = match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(Ok(()))) => SocketOutcome::Connected,
            Ok(Some(Err(message))) => SocketOutcome::Refused(message),
            Ok(None) | Err(_) => SocketOutcome::Refused("no answer".into()),
        };
        let _ = client.disconnect().await;
        outcome
    }
}

/// What a Socket.IO handshake came to.
#[derive(Debug, PartialEq, Eq)]
pub enum SocketOutcome {
    Connected,
    Refused(String),
}

/// `haven_session=…` from a response's `Set-Cookie` headers, ready for a `Cookie` header.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    set_cookie(headers, "haven_session")
        .map(|full| full.split(';').next().unwrap_or_default().to_owned())
}

/// The whole `Set-Cookie` header of the named cookie.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// A signed-in user: the session cookie and the user id.
#[derive(Debug, Clone)]
pub struct Account {
    pub cookie: String,
    pub id: i64,
}

/// A connected Socket.IO client that records the server's events.
pub struct Peer {
    client: SocketClient,
    events: mpsc::UnboundedReceiver<(String, Value)>,
    /// Every event [`Peer::next`] read, the skipped ones included, in order: what a
    /// privacy test scans.
    pub seen: Vec<(String, Value)>,
}

impl Peer {
    /// Connects with the account's cookie and, optionally, `{lastSeenId}` in the handshake.
    pub async fn connect(
        server: &TestServer,
        account: &Account,
        last_seen_id: Option<i64>,
    ) -> Peer {
        let auth = last_seen_id.map(|id| json!({ "lastSeenId": id }));
        Peer::connect_with_auth(server, account, auth).await
    }

    /// Connects with the account's cookie and this handshake `auth`, if any.
    pub async fn connect_with_auth(
        server: &TestServer,
        account: &Account,
        auth: Option<Value>,
    ) -> Peer {
        Peer::connect_via(&server.base, account, auth, false).await
    }

    /// Connects to `base` (a node, or the balancer) over WebSocket alone, with the
    /// account's cookie and this handshake `auth`, if any. This client keeps no cookies, so
    /// long polling through the balancer would lose its node (that has a test of its own).
    pub async fn connect_at(base: &str, account: &Account, auth: Option<Value>) -> Peer {
        Peer::connect_via(base, account, auth, true).await
    }

    async fn connect_via(
        base: &str,
        account: &Account,
        auth: Option<Value>,
        websocket_only: bool,
    ) -> Peer {
        let (tx, events) = mpsc::unbounded_channel();
        let (ready_tx, mut ready) = mpsc::unbounded_channel::<()>();
        let on_close = tx.clone();
        let mut builder = ClientBuilder::new(base.to_owned()).reconnect(false);
        if websocket_only {
            builder = builder.transport_type(rust_socketio::TransportType::Websocket);
        }
        builder = builder
            .opening_header("Cookie", account.cookie.as_str())
            .on("close", move |_, _| {
                let tx = on_close.clone();
                async move {
                    let _ = tx.send(("close".to_owned(), Value::Null));
                }
                .boxed()
            })
            .on_any(move |event, payload, _| {
                let tx = tx.clone();
                async move {
                    let name = String::from(event);
                    for value in payload_values(payload) {
                        let _ = tx.send((name.clone(), value));
                    }
                }
                .boxed()
            })
            .on("open", move |_, _| {
                let ready = ready_tx.clone();
                async move {
                    let _ = ready.send(());
                }
                .boxed()
            });
        if let Some(auth) = auth {
            builder = builder.auth(auth);
        }
        let client = builder.connect().await.expect("socket connects");
        tokio::time::timeout(Duration::from_secs(10), ready.recv())
            .await
            .expect("namespace connected in time");
        Peer {
            client,
            events,
            seen: Vec::new(),
        }
    }

    /// Emits `event` with `payload` and waits for the ack.
    pub async fn call(&self, event: &str, payload: Value) -> Value {
        self.try_call(event, payload).await.expect("ack")
    }

    /// [`Peer::call`], answering `None` when the emit fails or no ack comes (the server went
    /// away).
    pub async fn try_call(&self, event: &str, payload: Value) -> Option<Value> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.client
            .emit_with_ack(
                event,
                payload,
                Duration::from_secs(10),
                move |payload: Payload, _| {
                    let tx = tx.clone();
                    async move {
                        // rust_socketio hands over the ack's argument list as one array.
                        let first = match payload_values(payload).into_iter().next() {
                            Some(Value::Array(args)) => {
                                args.into_iter().next().unwrap_or(Value::Null)
                            }
                            Some(other) => other,
                            None => Value::Null,
                        };
                        let _ = tx.send(first);
                    }
                    .boxed()
                },
            )
            .await
            .ok()?;
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .ok()?
    }

    /// The next `name` event's payload (other events are skipped).
    pub async fn next(&mut self, name: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (event, value) = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {name} event in time"))
                .expect("event stream open");
            self.seen.push((event.clone(), value.clone()));
            if event == name {
                return value;
            }
        }
    }

    /// The next `n` events named `name`, which must come.
    pub async fn next_n(&mut self, name: &str, n: usize) -> Vec<Value> {
        let mut found = Vec::with_capacity(n);
        for _ in 0..n {
            found.push(self.next(name).await);
        }
        found
    }

    /// Every event that arrives within `wait`, in order.
    pub async fn collect_all(&mut self, wait: Duration) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut found = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.events.recv()).await {
            found.push(event);
        }
        found
    }

    /// Every `name` event that arrives within `wait`.
    pub async fn collect(&mut self, name: &str, wait: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut found = Vec::new();
        while let Ok(Some((event, value))) =
            tokio::time::timeout_at(deadline, self.events.recv()).await
        {
            if event == name {
                found.push(value);
            }
        }
        found
    }

    /// Whether the server closed this socket within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(Some((event, _))) = tokio::time::timeout_at(deadline, self.events.recv()).await
        {
            if event == "close" {
                return true;
            }
        }
        false
    }

    pub async fn disconnect(self) {
        let _ = self.client.disconnect().await;
    }
}

#[allow(deprecated)]
fn payload_values(payload: Payload) -> Vec<Value> {
    match payload {
        Payload::Text(values) => values,
        Payload::String(text) => vec![serde_json::from_str(&text).unwrap_or(Value::String(text))],
        Payload::Binary(_) => vec![],
    }
}

/// A fresh UUID v4 string for `clientId`.
pub fn client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn select(html: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).expect("selector");
    html.select(&selector)
        .map(|e| e.text().collect::<String>())
        .collect()
}

/// A fresh server with a student (`student`) and a psychiatrist (`doctor`), and the
/// student's socket in a conversation with them: the student, the psychiatrist, the socket
/// and the conversation.
pub async fn student_in_conversation(
    student: &str,
    doctor: &str,
) -> (TestServer, Account, Account, Peer, i64) {
    let server = TestServer::start().await;
    let student = server.student(student).await;
    let doctor = server.psychiatrist(doctor).await;
    let peer = Peer::connect(&server, &student, None).await;
    let conversation = open_with(&peer, doctor.id).await;
    (server, student, doctor, peer, conversation)
}

/// Opens (or finds) the conversation of `student` with the psychiatrist `doctor`.
pub async fn open_with(student: &Peer, doctor: i64) -> i64 {
    let ack = student
        .call("conversation:open", json!({ "peerId": doctor }))
        .await;
    ack["conversation"]["id"].as_i64().expect("conversation id")
}

/// A plain form post (no JavaScript) of a signed-in browser; answers the status.
pub async fn form_post(server: &TestServer, path: &str, cookie: &str, form: String) -> u16 {
    server
        .http()
        .post(server.url(path))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Sends `body` from `peer` into `conversation`; answers the stored message.
pub async fn say(peer: &Peer, conversation: i64, body: &str) -> serde_json::Value {
    let ack = peer
        .call(
            "message:send",
            json!({ "conversationId": conversation, "clientId": client_id(), "body": body }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    ack["message"].clone()
}

pub use server::store::test_db::on_postgres;

/// A new, empty database on the PostgreSQL server of `HAVEN_TEST_DATABASE_URL`; answers
/// its URL. Never a shared database: one per test server.
pub async fn fresh_postgres_database() -> String {
    server::store::test_db::fresh_postgres().await
}

/// A test's own connection to a server's database, SQLite or PostgreSQL. Statements are
/// written once for both: `$1` parameters, literals for times (both read RFC 3339 text),
/// and `CAST(… AS TEXT)` to read a time back.
pub struct TestDb {
    pool: sqlx::AnyPool,
    postgres: bool,
}

impl TestDb {
    async fn connect(url: &str) -> Self {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .expect("connect to the test database");
        Self {
            pool,
            postgres: url.starts_with("postgres"),
        }
    }

    /// Opens a student's conversation with a psychiatrist as Haven does, without asking
    /// Haven (which would read the psychiatrist's availability on the way); answers its id.
    pub async fn insert_conversation(&self, student: i64, psychiatrist: i64) -> i64 {
        let id: i64 = sqlx::query_scalar("INSERT INTO conversations DEFAULT VALUES RETURNING id")
            .fetch_one(&self.pool)
            .await
            .expect("a conversation");
        for sql in [
            format!(
                "INSERT INTO conversation_members (conversation_id, user_id) \
                 VALUES ({id}, {student}), ({id}, {psychiatrist})"
            ),
            format!(
                "INSERT INTO direct_conversations (student_id, psychiatrist_id, conversation_id) \
                 VALUES ({student}, {psychiatrist}, {id})"
            ),
        ] {
            self.execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        id
    }

    /// Stores a message as Haven's writer would, at a time of the test's choosing (the
    /// database's triggers keep the aggregates, as for any message); answers its id. On
    /// PostgreSQL the id comes from the counter row, as the writer takes it.
    pub async fn insert_message(
        &self,
        conversation: i64,
        sender: i64,
        body: &str,
        at: app::protocol::Timestamp,
    ) -> i64 {
        let client = uuid::Uuid::new_v4();
        let sql = if self.postgres {
            format!(
                "WITH id AS (UPDATE message_ids SET last_id = last_id + 1 RETURNING last_id) \
                 INSERT INTO messages (id, conversation_id, sender_id, kind, client_id, body, created_at) \
                 SELECT last_id, {conversation}, {sender}, 'text', '{client}', $1, '{at}' FROM id RETURNING id"
            )
        } else {
            format!(
                "INSERT INTO messages (conversation_id, sender_id, kind, client_id, body, created_at) \
                 VALUES ({conversation}, {sender}, 'text', '{client}', $1, '{at}') RETURNING id"
            )
        };
        sqlx::query_scalar::<_, i64>(&sql)
            .bind(body)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a statement; answers the rows it changed, or the database's refusal.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(sql).execute(&self.pool).await?.rows_affected())
    }

    /// The first column of the first row, as a number.
    pub async fn number(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The first column of every row, as numbers.
    pub async fn numbers(&self, sql: &str) -> Vec<i64> {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_all(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The first column of the first row, as text (`None` for NULL).
    pub async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A throwaway Redis server (Debian's `redis-server`, keeping nothing on disk) on a port of
/// its own; stopped on drop.
pub struct TestRedis {
    pub port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl TestRedis {
    /// Starts one and waits until it answers.
    pub async fn start() -> Self {
        let mut redis = Self {
            port: free_port(),
            child: None,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        redis.run().await;
        redis
    }

    /// `redis://…` for HAVEN_REDIS_URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    async fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server (scripts/setup.sh test installs it)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start");
    }

    /// Kills it (everything it held is gone, as after a crash).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again, empty, on the same port.
    pub async fn start_again(&mut self) {
        self.run().await;
    }
}

/// HAProxy with `deploy/haproxy.cfg` in front of two nodes; stopped on drop.
pub struct TestBalancer {
    pub base: String,
    _child: Child,
}

/// The balancer's configuration, as deployed.
pub const HAPROXY_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/haproxy.cfg");

impl TestBalancer {
    /// Starts HAProxy on `port` in front of nodes `a` and `b` (their `http://host:port`),
    /// and waits until it serves `/healthz`.
    pub async fn start(port: u16, a: &str, b: &str) -> Self {
        let strip = |url: &str| url.trim_start_matches("http://").to_owned();
        let child = Command::new("haproxy")
            .args(["-db", "-f", HAPROXY_CONFIG])
            .env("HAVEN_LISTEN", format!("127.0.0.1:{port}"))
            .env("HAVEN_NODE_A", strip(a))
            .env("HAVEN_NODE_B", strip(b))
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("haproxy (scripts/setup.sh test installs it)");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..100 {
            let ok = client.get(format!("{base}/healthz")).send().await;
            if ok.is_ok_and(|r| r.status().is_success()) {
                return Self {
                    base,
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("haproxy did not serve /healthz");
    }
}

/// Two Haven nodes on one PostgreSQL database and one Redis, behind HAProxy: what a
/// service with no single point of failure runs.
pub struct TestCluster {
    pub redis: TestRedis,
    pub a: TestServer,
    pub b: TestServer,
    pub balancer: TestBalancer,
}

impl TestCluster {
    /// Starts it all (PostgreSQL from `HAVEN_TEST_DATABASE_URL`), with extra environment
    /// for both nodes.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let redis = TestRedis::start().await;
        let database = fresh_postgres_database().await;
        let port = free_port();
        let public = format!("http://127.0.0.1:{port}");
        let redis_url = redis.url();
        let mut node_env: Vec<(&str, &str)> = vec![
            ("HAVEN_REDIS_URL", redis_url.as_str()),
            ("HAVEN_PUBLIC_URL", public.as_str()),
            ("HAVEN_TRUSTED_PROXIES", "127.0.0.1"),
        ];
        node_env.extend_from_slice(env);
        let a = TestServer::start_on(Some(database.clone()), &node_env).await;
        let b = TestServer::start_on(Some(database), &node_env).await;
        let balancer = TestBalancer::start(port, &a.base, &b.base).await;
        Self {
            redis,
            a,
            b,
            balancer,
        }
    }
}
