//! PostgreSQL beside SQLite: `haven migrate` prepares a PostgreSQL database with the
//! complete schema in native types, the schema keeps Haven's rules itself, and `haven
//! import` moves a SQLite service over. (The whole suite also runs on PostgreSQL:
//! `HAVEN_TEST_BACKEND=postgres`.) Against a real server: `make test` runs these through
//! `scripts/test/with-postgres.sh`, which starts a throwaway cluster (or uses
//! `HAVEN_TEST_DATABASE_URL`). A fresh database per test.

mod common;

use common::{client_id, Account, Peer, TestServer, PASSWORD};
use serde_json::json;
use sqlx::postgres::PgPool;
use sqlx::Row;
use tokio::process::Command;

/// A new, empty database on the test server; answers its URL and a pool on it.
async fn fresh_database() -> (String, PgPool) {
    let url = common::fresh_postgres_database().await;
    let pool = PgPool::connect(&url).await.expect("the fresh database");
    (url, pool)
}

/// `haven migrate` against `url`; answers success and what it printed.
async fn migrate(url: &str) -> (bool, String) {
    let out = Command::new(common::BIN)
        .arg("migrate")
        .env("DATABASE_URL", url)
        .env("HAVEN_LOG", "warn")
        .output()
        .await
        .expect("run haven migrate");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The type of a column as `information_schema` names it.
async fn column_type(db: &PgPool, table: &str, column: &str) -> String {
    sqlx::query_scalar(
        "SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
    )
    .bind(table)
    .bind(column)
    .fetch_one(db)
    .await
    .unwrap_or_else(|e| panic!("{table}.{column}: {e}"))
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it through scripts/test/with-postgres.sh"]
async fn haven_migrate_prepares_a_postgres_database_with_native_types() {
    let (url, db) = fresh_database().await;
    let (ok, out) = migrate(&url).await;
    assert!(ok && out.contains("migrations applied"), "{out}");
    let (ok, out) = migrate(&url).await;
    assert!(ok, "a second run has nothing to do: {out}");

    for (table, column, expected) in [
        ("users", "id", "bigint"),
        ("users", "created_at", "timestamp with time zone"),
        ("users", "accepting_new", "boolean"),
        ("users", "away_back_on", "date"),
        ("messages", "id", "bigint"),
        ("messages", "client_id", "uuid"),
        ("messages", "created_at", "timestamp with time zone"),
        (
            "conversation_members",
            "last_read_at",
            "timestamp with time zone",
        ),
        ("access_log", "address", "inet"),
    ] {
        assert_eq!(
            column_type(&db, table, column).await,
            expected,
            "{table}.{column}"
        );
    }
    // A message's id is taken from the counter row, never from a sequence of its own.
    let identity: String = sqlx::query_scalar(
        "SELECT is_identity FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'id'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(identity, "NO");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it through scripts/test/with-postgres.sh"]
async fn the_postgres_schema_keeps_havens_rules_itself() {
    let (url, db) = fresh_database().await;
    assert!(migrate(&url).await.0);
    let student: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, role, password_hash) \
         VALUES ('synthetic.student', 'Synthetic', 'student', 'x') RETURNING id",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let conversation: i64 =
        sqlx::query_scalar("INSERT INTO conversations DEFAULT VALUES RETURNING id")
            .fetch_one(&db)
            .await
            .unwrap();
    // Ids come from the counter row only (commit order across nodes): an insert without
    // one is refused.
    let without_id = sqlx::query(
        "INSERT INTO messages (conversation_id, sender_id, client_id, body, created_at) \
         VALUES ($1, $2, gen_random_uuid(), 'synthetic', now())",
    )
    .bind(conversation)
    .bind(student)
    .execute(&db)
    .await;
    assert!(
        without_id.is_err(),
        "a message takes its id from message_ids"
    );
    let send = |client_id: &'static str| {
        sqlx::query(
            "WITH taken AS (UPDATE message_ids SET last_id = last_id + 1 RETURNING last_id) \
             INSERT INTO messages (id, conversation_id, sender_id, client_id, body, created_at) \
             SELECT last_id, $1, $2, $3::uuid, 'synthetic', now() FROM taken",
        )
        .bind(conversation)
        .bind(student)
        .bind(client_id)
    };
    let id = "6f1c2d4e-0000-4000-8000-000000000001";
    send(id).execute(&db).await.expect("a first send is stored");
    let again = send(id)
        .execute(&db)
        .await
        .expect_err("a retried clientId is refused");
    assert!(again
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation()));
    assert!(
        send("not-a-uuid").execute(&db).await.is_err(),
        "a clientId is a UUID"
    );
    assert!(
        sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
            .bind(student)
            .execute(&db)
            .await
            .is_err(),
        "two roles only"
    );

    // The access record takes rows and gives up none.
    sqlx::query(
        "INSERT INTO access_log (at, user_id, conversation_id, action, address) \
         VALUES (now(), $1, $2, 'page', '192.0.2.7')",
    )
    .bind(student)
    .bind(conversation)
    .execute(&db)
    .await
    .expect("appended");
    for change in [
        "UPDATE access_log SET action = 'export'",
        "DELETE FROM access_log",
        "TRUNCATE access_log",
    ] {
        let err = sqlx::query(change).execute(&db).await.expect_err(change);
        assert!(err.to_string().contains("append-only"), "{change}: {err}");
    }
    let kept = sqlx::query("SELECT count(*) AS n FROM access_log")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(kept.get::<i64, _>("n"), 1);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it through scripts/test/with-postgres.sh"]
async fn haven_import_moves_a_sqlite_service_to_postgres_with_nothing_lost() {
    // A service on the embedded default, with a conversation, a notice-free history, a
    // read marker and office hours.
    let mut old = TestServer::start_on(None, &[]).await;
    let student = old.student("moving.student").await;
    let doctor = old.psychiatrist("dr.moving").await;
    let s = Peer::connect(&old, &student, None).await;
    let opened = s
        .call("conversation:open", json!({ "peerId": doctor.id }))
        .await;
    let conversation = opened["conversation"]["id"].as_i64().expect("opened");
    let mut sent = Vec::new();
    for body in [
        "the first line",
        "the second line",
        "quotes ' and \" and \\ survive",
    ] {
        let ack = s
            .call(
                "message:send",
                json!({ "conversationId": conversation, "clientId": client_id(), "body": body }),
            )
            .await;
        sent.push(ack["message"].clone());
    }
    s.disconnect().await;
    assert!(old.stop().await);
    let sqlite_url = old.database_url.clone();

    let (url, db) = fresh_database().await;
    let import = |url: String| {
        let from = sqlite_url.clone();
        async move {
            Command::new(common::BIN)
                .args(["import", "--from", &from])
                .env("DATABASE_URL", url)
                .env("HAVEN_LOG", "warn")
                .output()
                .await
                .expect("run haven import")
        }
    };
    let out = import(url.clone()).await;
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("messages: 3 rows"), "{said}");
    let again = import(url.clone()).await;
    assert!(
        !again.status.success(),
        "a second import into a used database is refused"
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The same service on PostgreSQL: the same accounts, the same messages (ids, times,
    // bodies), and new ids continue after the old ones.
    let new = TestServer::start_on(Some(url), &[]).await;
    let (status, _, cookie) = new.login("moving.student", PASSWORD, None).await;
    assert_eq!(status, 200, "the password still signs in");
    let (status, _, doctor_cookie) = new.login("dr.moving", PASSWORD, Some("psychiatrist")).await;
    assert_eq!(status, 200);
    let doctor = Account {
        cookie: doctor_cookie.expect("cookie"),
        id: doctor.id,
    };
    let mut d = Peer::connect(&new, &doctor, Some(0)).await;
    let replayed = d.next_n("message:new", sent.len()).await;
    assert_eq!(replayed, sent, "every message, unchanged");
    // The aggregates the database keeps came along once, not counted again on the way.
    let (status, list) = new
        .server_fn("conversations", &doctor.cookie, "longest_waiting=false")
        .await;
    assert_eq!(status, 200, "{list}");
    let listed = &list["conversations"][0];
    assert_eq!(listed["unread"], 3, "{list}");
    assert_eq!(listed["awaitingSince"], sent[0]["createdAt"], "{list}");
    let student = Account {
        cookie: cookie.expect("cookie"),
        id: student.id,
    };
    let s = Peer::connect(&new, &student, None).await;
    let ack = s
        .call(
            "message:send",
            json!({ "conversationId": conversation, "clientId": client_id(), "body": "after the move" }),
        )
        .await;
    let newest = sent.last().unwrap()["id"].as_i64().unwrap();
    assert!(ack["message"]["id"].as_i64().unwrap() > newest, "{ack}");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(sessions >= 2, "sessions live in PostgreSQL");
}
