//! Starts the real `haven` binary on an ephemeral port with a fresh SQLite file, and talks
//! to it over HTTP and Socket.IO like any client would.
#![allow(dead_code)] // each test file uses a different part of the harness

use std::process::Stdio;
use std::time::Duration;

use futures_util::FutureExt;
use reqwest::header::{HeaderMap, ACCEPT, COOKIE, SET_COOKIE};
use reqwest::redirect::Policy;
use rust_socketio::asynchronous::{Client as SocketClient, ClientBuilder};
use rust_socketio::Payload;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

pub const BIN: &str = env!("CARGO_BIN_EXE_haven");
pub const PASSWORD: &str = "a-synthetic-passphrase";

/// A running server with its own database; killed on drop.
pub struct TestServer {
    pub base: String,
    pub database_url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with default settings.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra environment variables.
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("haven.db").display());
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env("DATABASE_URL", &database_url)
            .env("LEPTOS_SITE_ROOT", dir.path())
            .env("HAVEN_LOG", "warn")
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
        Self {
            base,
            database_url,
            child,
            _dir: dir,
        }
    }

    /// Runs `haven <args>` against this server's database, feeding `stdin`; answers stdout.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> (bool, String, String) {
        let mut child = Command::new(BIN)
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("HAVEN_LOG", "warn")
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

    /// Registers a student over the JSON API; answers the session cookie.
    pub async fn register_student(&self, username: &str) -> String {
        let res = self
            .http()
            .post(self.url("/api/auth/register"))
            .json(&json!({ "username": username, "displayName": "Synthetic Student", "password": PASSWORD }))
            .send()
            .await
            .expect("register");
        assert_eq!(res.status(), 200, "register {username}");
        session_cookie(res.headers()).expect("session cookie")
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
