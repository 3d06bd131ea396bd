//! The PostgreSQL backend: native types (`bigint` identity ids, `timestamptz`, `uuid`
//! client ids, `boolean`, `date`, `inet`), `$n` parameters, arrays where SQLite takes a
//! JSON list, and the message writer's batches as one `UNNEST` statement.

pub mod availability;
pub mod messages;
pub mod push;
pub mod sessions;
pub mod users;

use std::time::Duration;

use app::protocol::ClientId;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::StoreError;

/// Connects to the PostgreSQL database at `url`.
pub async fn connect(url: &str) -> Result<PgPool, StoreError> {
    Ok(PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?)
}

/// A client id (validated UUID text) as a `uuid` value.
fn pg_uuid(id: &ClientId) -> Result<uuid::Uuid, StoreError> {
    uuid::Uuid::parse_str(&id.0).map_err(|_| StoreError::Corrupt(format!("client id {:?}", id.0)))
}

/// A `uuid` value as the client id text Haven uses (lowercase, hyphenated).
fn client_id(id: uuid::Uuid) -> ClientId {
    ClientId(id.hyphenated().to_string())
}
