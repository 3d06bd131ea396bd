//! PostgreSQL beside SQLite (issue 13, in progress): `haven migrate` prepares a PostgreSQL
//! database with the complete schema in native types, and the schema keeps Haven's rules
//! itself. Against a real server: `make test` runs these through
//! `scripts/test/with-postgres.sh`, which starts a throwaway cluster (or uses
//! `HAVEN_TEST_DATABASE_URL`). A fresh database per test.

mod common;

use sqlx::postgres::PgPool;
use sqlx::Row;
use tokio::process::Command;

/// A new, empty database on the test server; answers its URL and a pool on it.
async fn fresh_database() -> (String, PgPool) {
    let admin_url = std::env::var("HAVEN_TEST_DATABASE_URL")
        .expect("HAVEN_TEST_DATABASE_URL: run through scripts/test/with-postgres.sh (make test)");
    let admin = PgPool::connect(&admin_url).await.expect("the test server");
    let name = format!(
        "haven_test_{}_{:x}",
        std::process::id(),
        rand::random::<u32>()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create database");
    let (base, _) = admin_url.rsplit_once('/').expect("a database in the URL");
    let url = format!("{base}/{name}");
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
    let identity: String = sqlx::query_scalar(
        "SELECT is_identity FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'id'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(identity, "YES");
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
    let send = |client_id: &'static str| {
        sqlx::query(
            "INSERT INTO messages (conversation_id, sender_id, client_id, body, created_at) \
             VALUES ($1, $2, $3::uuid, 'synthetic', now())",
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
async fn serving_from_postgres_is_refused_with_a_clear_message_until_the_store_is_ported() {
    let (url, _db) = fresh_database().await;
    let out = Command::new(common::BIN)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("HAVEN_LOG", "warn")
        .env("HAVEN_CRISIS_RESOURCES", common::CRISIS_RESOURCES)
        .output()
        .await
        .expect("run haven serve");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot serve from one yet"), "{said}");
}
