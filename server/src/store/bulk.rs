//! Whole tables loaded at once, as text in [`import`](super::import)'s column layout: for
//! `haven seed-demo --history`, which fills an empty database with years of synthetic
//! history in a few large transactions instead of through the API.

use super::import::{continue_ids_after_copied, write, TABLES};
use super::{Db, StoreError};

/// Rows of one table, each value as text (`None` for NULL), in the column order of
/// `import::TABLES`.
pub type TextRows = Vec<Vec<Option<String>>>;

/// SQLite takes at most this many bound values in one statement.
const SQLITE_VARIABLES: usize = 32_766;
/// Rows per PostgreSQL statement (a text array per column).
const PG_CHUNK: usize = 10_000;

/// Loads `tables` (by name; tables not given stay empty) into an empty, migrated database,
/// in one transaction, then refreshes the planner's statistics. The aggregates the message
/// trigger keeps must be in the rows given: messages are loaded before the members they
/// would count (and on PostgreSQL with the trigger off).
pub async fn load(db: &Db, tables: &[(&str, TextRows)]) -> Result<(), StoreError> {
    // One row is enough to know (not a count of them all).
    let present: Option<i64> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT id FROM users LIMIT 1")
                .fetch_optional(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT id FROM users LIMIT 1")
                .fetch_optional(pool)
                .await?
        }
    };
    if present.is_some() {
        return Err(StoreError::Unsupported(
            "the database already has accounts; the synthetic history fills an empty one",
        ));
    }
    let rows_of = |table: &str| {
        tables
            .iter()
            .find(|(name, _)| *name == table)
            .map(|(_, rows)| rows.as_slice())
            .unwrap_or_default()
    };
    match db {
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await?;
            for (table, columns) in TABLES {
                let names = columns.iter().map(|(name, _)| *name).collect::<Vec<_>>();
                let row = format!("({})", vec!["?"; columns.len()].join(", "));
                for chunk in rows_of(table).chunks(SQLITE_VARIABLES / columns.len()) {
                    let sql = format!(
                        "INSERT INTO {table} ({}) VALUES {}",
                        names.join(", "),
                        vec![row.as_str(); chunk.len()].join(", ")
                    );
                    let mut query = sqlx::query(&sql);
                    for values in chunk {
                        for value in values {
                            query = query.bind(value.as_deref());
                        }
                    }
                    query.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("ALTER TABLE messages DISABLE TRIGGER messages_keep_aggregates")
                .execute(&mut *tx)
                .await?;
            for (table, columns) in TABLES {
                for chunk in rows_of(table).chunks(PG_CHUNK) {
                    write(&mut tx, table, columns, chunk).await?;
                }
            }
            continue_ids_after_copied(&mut tx).await?;
            sqlx::query("ALTER TABLE messages ENABLE TRIGGER messages_keep_aggregates")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            sqlx::query("ANALYZE").execute(pool).await?;
        }
    }
    Ok(())
}
