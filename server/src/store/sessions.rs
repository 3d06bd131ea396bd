//! Sessions: tower-sessions' store of either backend ([`Sessions`]), and what its
//! interface cannot answer in one query (which of many sessions are still valid, which
//! belong to one user), read from its table directly.

use std::collections::HashSet;

use app::protocol::UserId;
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{dispatch, Db, StoreError};

/// tower-sessions' store on the database Haven uses: a session is valid on every node that
/// shares the database.
#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// The store in `db` (its table comes with Haven's migrations).
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Sqlite(pool) => Sessions::Sqlite(SqliteStore::new(pool.clone())),
            Db::Postgres(pool) => Sessions::Postgres(PostgresStore::new(pool.clone())),
        }
    }
}

#[async_trait]
impl session_store::SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(store) => store.create(record).await,
            Sessions::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(store) => store.save(record).await,
            Sessions::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(store) => store.load(id).await,
            Sessions::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(store) => store.delete(id).await,
            Sessions::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(store) => store.delete_expired().await,
            Sessions::Postgres(store) => store.delete_expired().await,
        }
    }
}

/// A stored session of one user: its id and, if signed in with sockets, its socket room
/// token (`auth::session`'s keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSession {
    pub id: String,
    pub socket_room: Option<String>,
}

/// Of the session ids given, those that exist and have not expired.
pub async fn unexpired(db: &Db, ids: &[String]) -> Result<HashSet<String>, StoreError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    dispatch!(db, sessions::unexpired(ids))
}

/// Every stored session of `user`. The store keeps each record as MessagePack, which SQL
/// cannot look into, so all are read and decoded: for the rare deletion of an account.
pub async fn of_user(
    db: &Db,
    user: UserId,
    user_key: &str,
    room_key: &str,
) -> Result<Vec<UserSession>, StoreError> {
    let rows = dispatch!(db, sessions::all())?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, data)| owned_by(id, &data, user, user_key, room_key))
        .collect())
}

/// The session `id` with the MessagePack record `data`, if it is `user`'s.
fn owned_by(
    id: String,
    data: &[u8],
    user: UserId,
    user_key: &str,
    room_key: &str,
) -> Option<UserSession> {
    // An unreadable record belongs to no one we can name; it expires by itself.
    let record = rmp_serde::from_slice::<Record>(data).ok()?;
    let owner = record
        .data
        .get(user_key)
        .and_then(|u| u.get("id"))
        .and_then(serde_json::Value::as_i64);
    (owner == Some(user.0)).then(|| UserSession {
        id,
        socket_room: record
            .data
            .get(room_key)
            .and_then(|r| r.as_str())
            .map(str::to_owned),
    })
}

/// Deletes these sessions: their cookies no longer sign anyone in.
pub async fn delete(db: &Db, ids: &[String]) -> Result<(), StoreError> {
    dispatch!(db, sessions::delete(ids))
}
