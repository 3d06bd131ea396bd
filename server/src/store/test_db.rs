//! Throwaway databases for tests (the store's own, the domain's and the integration
//! tests'): a SQLite file in a temporary folder, or, when `HAVEN_TEST_BACKEND` is
//! `postgres`, a fresh database on the server `HAVEN_TEST_DATABASE_URL` names (`make test`
//! runs the suite both ways). Never a shared database, never a mock.

use super::{connect, migrate, Db};

/// Whether this run tests PostgreSQL (`HAVEN_TEST_BACKEND=postgres`) rather than SQLite.
pub fn on_postgres() -> bool {
    std::env::var("HAVEN_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A migrated, empty database; the folder of a SQLite file lives as long as the guard.
pub async fn fresh() -> (Db, Option<tempfile::TempDir>) {
    if on_postgres() {
        let db = connect(&fresh_postgres().await).await.expect("connect");
        migrate(&db).await.expect("migrate");
        return (db, None);
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("haven.db").display());
    let db = connect(&url).await.expect("connect");
    migrate(&db).await.expect("migrate");
    (db, Some(dir))
}

/// A new, empty database on the PostgreSQL test server; answers its URL.
pub async fn fresh_postgres() -> String {
    use sqlx::Connection;
    let admin_url = std::env::var("HAVEN_TEST_DATABASE_URL")
        .expect("HAVEN_TEST_DATABASE_URL: run through scripts/test/with-postgres.sh (make test)");
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("the PostgreSQL test server");
    let name = format!(
        "haven_test_{}_{:x}",
        std::process::id(),
        rand::random::<u64>()
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let _ = admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("a database in the URL");
    format!("{base}/{name}")
}
