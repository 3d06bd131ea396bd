//! PostgreSQL, beside the embedded SQLite (issue 13, in progress). Its schema is complete
//! (`migrations/postgres/`) and `haven migrate` applies it; the store functions still speak
//! SQLite only, so `haven serve` refuses a PostgreSQL URL with [`NOT_YET`] rather than
//! failing later (docs/decisions.md).

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::StoreError;

/// What a command that needs the whole store answers for a PostgreSQL URL today.
pub const NOT_YET: &str = "PostgreSQL: `haven migrate` prepares a database, but Haven cannot \
                           serve from one yet; use a sqlite: DATABASE_URL";

/// Connects to the PostgreSQL database at `url`.
pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    Ok(PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?)
}

/// Applies the migrations in `migrations/postgres/` that have not run yet.
pub async fn migrate(db: &PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("../migrations/postgres").run(db).await?;
    Ok(())
}
