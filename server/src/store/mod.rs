//! Storage: the one place with SQL. Handlers and services call the typed functions of the
//! table modules (`store::users::insert(..)`), never `sqlx` directly.
//!
//! Two backends sit behind one interface, chosen by the scheme of `DATABASE_URL`:
//! [`Db`] is either pool, and each table module (`users`, `messages`, …) owns the types
//! and one function per operation, which hands the call to `sqlite::<table>` or
//! `postgres::<table>`. Each backend writes its own SQL in its own types (SQLite: text
//! times and ids; PostgreSQL: `timestamptz`, `uuid`, `boolean`, arrays), so neither is
//! bent to the other (docs/decisions.md, "PostgreSQL beside SQLite").

pub mod access;
mod address;
pub mod availability;
pub mod bulk;
pub mod conversations;
pub mod groups;
pub mod import;
pub mod messages;
pub mod push;
pub mod retention;
pub mod sessions;
pub mod test_db;
pub mod users;
pub mod writer;

mod postgres;
mod sqlite;

use sqlx::postgres::PgPool;
use sqlx::SqlitePool;
use thiserror::Error;

/// The database every store function takes: a connection pool of either backend. Cheap
/// to clone.
#[derive(Debug, Clone)]
pub enum Db {
    /// The embedded default: one file, one writer.
    Sqlite(SqlitePool),
    /// A PostgreSQL server, which several Haven nodes can share.
    Postgres(PgPool),
}

/// Hands a store call to the backend of `db`: `dispatch!(db, users::insert(user))` calls
/// `sqlite::users::insert(pool, user)` or `postgres::users::insert(pool, user)`.
macro_rules! dispatch {
    ($db:expr, $table:ident :: $function:ident ( $($arg:expr),* $(,)? )) => {
        match $db {
            $crate::store::Db::Sqlite(pool) => {
                $crate::store::sqlite::$table::$function(pool, $($arg),*).await
            }
            $crate::store::Db::Postgres(pool) => {
                $crate::store::postgres::$table::$function(pool, $($arg),*).await
            }
        }
    };
}
pub(crate) use dispatch;

/// Runs `$body` with `$pool` bound to whichever backend's pool `$db` holds: for the
/// statements both backends write alike (`$1` parameters, types that decode themselves),
/// written once and compiled once per backend.
macro_rules! on_either {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_either;

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
    /// The message writer could not store this message because the database is unusable
    /// (the writer logged the cause once for its batch).
    #[error("message batch failed")]
    BatchFailed,
    /// The database refused this very message; the rest of its batch was stored (the
    /// writer logged the cause).
    #[error("the database refused the message")]
    MessageRefused,
    #[error("database query failed")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder or a storage thread")]
    Io(#[from] std::io::Error),
    /// The operation needs the other backend (for example `haven import` from PostgreSQL).
    #[error("{0}")]
    Unsupported(&'static str),
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

impl Db {
    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Connects to the database `url` names (a SQLite file is created if missing).
pub async fn connect(url: &str) -> Result<Db, StoreError> {
    Ok(match Backend::of(url) {
        Backend::Sqlite => Db::Sqlite(sqlite::connect(url).await?),
        Backend::Postgres => Db::Postgres(postgres::connect(url).await?),
    })
}

/// Applies the backend's migrations (`migrations/sqlite/` or `migrations/postgres/`) that
/// have not run yet.
pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
        Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
    }
    Ok(())
}

/// Answers whether the database responds (for `/healthz`).
pub async fn ping(db: &Db) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
        Db::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop)?,
    }
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
