//! Storage: the one place with SQL. Handlers and services call the typed functions of the
//! submodules (`store::users::insert(..)`), never `sqlx` directly.

pub mod access;
pub mod availability;
pub mod conversations;
pub mod messages;
pub mod postgres;
pub mod retention;
pub mod sessions;
pub mod users;
pub mod writer;

use std::str::FromStr;
use std::time::Duration;

use app::protocol::Timestamp;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use thiserror::Error;

/// The connection pool every store function takes.
pub type Db = SqlitePool;

/// What can go wrong in storage.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint refused the row (for example a taken username).
    #[error("already exists")]
    Conflict,
    /// A row read back from the database does not fit the model.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The message writer could not open its connection.
    #[error("the message writer cannot open the database")]
    WriterStart(#[source] rusqlite::Error),
    /// The message writer thread is gone or dropped the answer.
    #[error("the message writer stopped")]
    WriterStopped,
    /// A batch of the message writer failed and nothing of it was stored (the writer
    /// logged the cause once for the whole batch).
    #[error("message batch failed")]
    BatchFailed,
    #[error("database query failed")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder or a storage thread")]
    Io(#[from] std::io::Error),
    /// The database URL names a backend that cannot do this yet.
    #[error("{0}")]
    Unsupported(&'static str),
}

/// Which database a `DATABASE_URL` names, by its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:` (the embedded default).
    Sqlite,
    /// `postgres:` or `postgresql:`.
    Postgres,
}

impl Backend {
    /// The backend of `url`; anything but PostgreSQL is SQLite's to accept or refuse.
    pub fn of(url: &str) -> Self {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        if scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    fn from_insert(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(err),
        }
    }
}

/// Reads a time column, which [`Timestamp`]'s `Display` wrote.
fn time(text: &str) -> Result<Timestamp, StoreError> {
    Timestamp::parse(text).map_err(|_| StoreError::Corrupt(format!("time {text:?}")))
}

/// Reads a nullable time column.
fn optional_time(text: Option<String>) -> Result<Option<Timestamp>, StoreError> {
    text.as_deref().map(time).transpose()
}

/// Opens (creating if needed) the SQLite database at `url`, tuned for a chat server: WAL so
/// readers never wait for the writer, `synchronous=NORMAL` (durable at each WAL checkpoint
/// and safe against corruption), a busy timeout instead of immediate "database is locked".
pub async fn connect(url: &str) -> Result<Db, StoreError> {
    if Backend::of(url) == Backend::Postgres {
        return Err(StoreError::Unsupported(postgres::NOT_YET));
    }
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Applies the migrations in `migrations/sqlite/` that have not run yet.
pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    sqlx::migrate!("../migrations/sqlite").run(db).await?;
    Ok(())
}

/// Answers whether the database responds (for `/healthz`).
pub async fn ping(db: &Db) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Backend;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        for url in [
            "postgres://h/db",
            "postgresql://u@h:5433/db",
            "POSTGRES://h/db",
        ] {
            assert_eq!(Backend::of(url), Backend::Postgres, "{url}");
        }
        for url in ["sqlite://data/haven.db", "sqlite::memory:", "data/haven.db"] {
            assert_eq!(Backend::of(url), Backend::Sqlite, "{url}");
        }
    }
}
