//! `haven import`: copies a SQLite database into an empty PostgreSQL one, for a service that
//! outgrows the embedded default. Ids are kept (PostgreSQL's identities are `BY DEFAULT`),
//! and the sequences are moved past them. Sessions are not copied: everyone signs in once
//! more on the new database.

use sqlx::SqlitePool;

use super::{Db, StoreError};

/// Each table in an order its foreign keys accept, with its columns and their PostgreSQL
/// types. Values travel as text: SQLite's fixed-width times, `0`/`1` flags, UUID text and
/// dates are all what PostgreSQL reads for those types. Messages come before the members
/// and direct conversations: the trigger that keeps the aggregates then finds nothing to
/// count, and the aggregates arrive as copied.
pub(super) const TABLES: &[(&str, &[(&str, &str)])] = &[
    (
        "users",
        &[
            ("id", "bigint"),
            ("username", "text"),
            ("display_name", "text"),
            ("role", "text"),
            ("bio", "text"),
            ("password_hash", "text"),
            ("recovery_hash", "text"),
            ("created_at", "timestamptz"),
            ("last_seen_at", "timestamptz"),
            ("away_since", "timestamptz"),
            ("away_back_on", "date"),
            ("away_note", "text"),
            ("accepting_new", "boolean"),
            ("deleted_at", "timestamptz"),
        ],
    ),
    (
        "conversations",
        &[
            ("id", "bigint"),
            ("created_at", "timestamptz"),
            ("last_message_id", "bigint"),
            ("last_text_id", "bigint"),
        ],
    ),
    (
        "messages",
        &[
            ("id", "bigint"),
            ("conversation_id", "bigint"),
            ("sender_id", "bigint"),
            ("kind", "text"),
            ("client_id", "uuid"),
            ("body", "text"),
            ("created_at", "timestamptz"),
            ("erased", "boolean"),
            ("event", "text"),
            ("subject_id", "bigint"),
            ("removed", "boolean"),
        ],
    ),
    (
        "conversation_members",
        &[
            ("conversation_id", "bigint"),
            ("user_id", "bigint"),
            ("last_read_id", "bigint"),
            ("last_read_at", "timestamptz"),
            ("handled_through_id", "bigint"),
            ("marked_unread", "boolean"),
            ("last_message_id", "bigint"),
            ("unread_count", "integer"),
            ("awaiting_since", "timestamptz"),
            ("unanswered_since", "timestamptz"),
            ("first_written_at", "timestamptz"),
            ("visible_after_id", "bigint"),
        ],
    ),
    (
        "direct_conversations",
        &[
            ("student_id", "bigint"),
            ("psychiatrist_id", "bigint"),
            ("conversation_id", "bigint"),
        ],
    ),
    (
        "groups",
        &[
            ("conversation_id", "bigint"),
            ("leader_id", "bigint"),
            ("name", "text"),
            ("description", "text"),
            ("member_limit", "integer"),
            ("students", "integer"),
            ("created_at", "timestamptz"),
            ("closed_at", "timestamptz"),
        ],
    ),
    (
        "group_people",
        &[
            ("conversation_id", "bigint"),
            ("user_id", "bigint"),
            ("handle", "text"),
            ("alias", "text"),
            ("shown_key", "text"),
            ("state", "text"),
            ("changed_at", "timestamptz"),
        ],
    ),
    (
        "reply_waits",
        &[
            ("psychiatrist_id", "bigint"),
            ("day", "date"),
            ("hours", "integer"),
            ("replies", "integer"),
        ],
    ),
    (
        "office_hours",
        &[
            ("psychiatrist_id", "bigint"),
            ("weekday", "smallint"),
            ("start_minute", "smallint"),
            ("end_minute", "smallint"),
        ],
    ),
    (
        "access_log",
        &[
            ("id", "bigint"),
            ("at", "timestamptz"),
            ("user_id", "bigint"),
            ("conversation_id", "bigint"),
            ("action", "text"),
            ("address", "inet"),
        ],
    ),
];

/// Tables whose identity sequence must move past the copied ids.
const SEQUENCES: &[&str] = &["users", "conversations", "access_log"];

/// Rows sent in one statement.
const CHUNK: usize = 5000;

/// How many rows of each table were copied.
pub type Copied = Vec<(&'static str, u64)>;

/// Copies every table of `from` (SQLite) into `to` (PostgreSQL, migrated and empty), in one
/// PostgreSQL transaction: either all of it arrives or nothing does.
pub async fn sqlite_into_postgres(from: &Db, to: &Db) -> Result<Copied, StoreError> {
    let (Db::Sqlite(from), Db::Postgres(to)) = (from, to) else {
        return Err(StoreError::Unsupported(
            "import copies a sqlite: database into a postgres: one",
        ));
    };
    let present: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(to)
        .await?;
    if present > 0 {
        return Err(StoreError::Unsupported(
            "the PostgreSQL database already has accounts; import needs an empty one",
        ));
    }
    let mut tx = to.begin().await?;
    let mut copied = Vec::new();
    for (table, columns) in TABLES {
        let rows = read(from, table, columns).await?;
        let mut count = 0;
        for chunk in rows.chunks(CHUNK) {
            count += write(&mut tx, table, columns, chunk).await?;
        }
        copied.push((*table, count));
    }
    continue_ids_after_copied(&mut tx).await?;
    tx.commit().await?;
    Ok(copied)
}

/// Moves every id generator past the ids copied in: the identity sequences, and the message
/// id counter (commit order across nodes, not a sequence).
pub(super) async fn continue_ids_after_copied(
    tx: &mut sqlx::PgConnection,
) -> Result<(), StoreError> {
    for table in SEQUENCES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                    COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE message_ids SET last_id = (SELECT COALESCE(MAX(id), 0) FROM messages)")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Every row of `table`, each column as text (or NULL).
async fn read(
    from: &SqlitePool,
    table: &str,
    columns: &[(&str, &str)],
) -> Result<Vec<Vec<Option<String>>>, StoreError> {
    use sqlx::Row;
    let list = columns
        .iter()
        .map(|(name, _)| format!("CAST({name} AS TEXT)"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!("SELECT {list} FROM {table}"))
        .fetch_all(from)
        .await?;
    rows.iter()
        .map(|row| {
            (0..columns.len())
                .map(|i| {
                    row.try_get::<Option<String>, _>(i)
                        .map_err(StoreError::from)
                })
                .collect()
        })
        .collect()
}

/// Inserts `rows` into `table` with one statement: a text array per column, cast to the
/// column's type.
pub(super) async fn write(
    tx: &mut sqlx::PgConnection,
    table: &str,
    columns: &[(&str, &str)],
    rows: &[Vec<Option<String>>],
) -> Result<u64, StoreError> {
    let names = columns.iter().map(|(name, _)| *name).collect::<Vec<_>>();
    let arrays = (1..=columns.len())
        .map(|i| format!("${i}::text[]"))
        .collect::<Vec<_>>()
        .join(", ");
    let casts = columns
        .iter()
        .map(|(name, pg_type)| format!("{name}::{pg_type}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO {table} ({}) SELECT {casts} FROM UNNEST({arrays}) AS row({})",
        names.join(", "),
        names.join(", "),
    );
    let mut query = sqlx::query(&sql);
    for i in 0..columns.len() {
        query = query.bind(rows.iter().map(|row| row[i].clone()).collect::<Vec<_>>());
    }
    Ok(query.execute(tx).await?.rows_affected())
}
