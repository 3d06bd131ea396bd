//! The SQLite backend: one file, WAL, times stored as fixed-width RFC 3339 text (so text
//! order is time order), booleans as integers. Messages are written by `store::writer`'s
//! own thread and connection; everything else goes through the sqlx pool.

pub mod availability;
pub mod messages;
pub mod push;
pub mod sessions;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::StoreError;

/// Opens (creating if needed) the SQLite database at `url`, tuned for a chat server: WAL so
/// readers never wait for the writer, `synchronous=NORMAL` (durable at each WAL checkpoint
/// and safe against corruption), a busy timeout instead of immediate "database is locked".
pub async fn connect(url: &str) -> Result<SqlitePool, StoreError> {
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
