//! No query scans a growing table: every SQL statement in `server/src/store/` is read from
//! the source (not from a list someone keeps), planned by SQLite (`EXPLAIN QUERY PLAN`) and
//! PostgreSQL (`EXPLAIN` of a generic plan) against a migrated database holding the
//! synthetic history (`haven seed-demo --history`, statistics gathered), and the test fails
//! if a plan reads one of the growing tables without an index bound.
//!
//! A statement that must read a whole table by design says so on the line above it, with
//! `// plan: scans <table> (<why>)`; the test prints each one. Files that copy whole tables
//! on purpose (`import.rs`, `bulk.rs`) and test code are not statements of a running
//! service and are left out.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use tokio::process::Command;

/// Tables that grow with the service's use: no plan may scan them without an index bound.
const GROWING: &[&str] = &[
    "messages",
    "access_log",
    "conversations",
    "conversation_members",
    "direct_conversations",
    "users",
    "reply_waits",
    "tower_sessions",
    "session",
    "push_subscriptions",
];

/// Files whose SQL copies whole tables on purpose, or is test code.
const NOT_SERVICE_STATEMENTS: &[&str] = &["import.rs", "bulk.rs", "test_db.rs", "tests.rs"];

/// Messages in the database the plans are made against: enough for every table to hold
/// thousands of rows (the history's people are the same at every size).
const HISTORY: &str = "20000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// One statement as found in the source.
#[derive(Debug, Clone)]
struct Statement {
    sql: String,
    at: String,
    backends: Vec<Backend>,
    /// Tables the source says this statement scans on purpose, with why.
    allowed: Vec<(String, String)>,
}

#[tokio::test]
async fn no_statement_scans_a_growing_table_on_sqlite() {
    let statements = statements_in_store();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    seed(&url).await;
    let conn = rusqlite::Connection::open(dir.path().join("plans.db")).expect("open");
    let mut failures = Vec::new();
    let mut planned = 0;
    for statement in statements
        .iter()
        .filter(|s| s.backends.contains(&Backend::Sqlite))
    {
        let mut explain = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", statement.sql))
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", statement.at, statement.sql));
        let nulls = vec![rusqlite::types::Null; explain.parameter_count()];
        let details: Vec<String> = explain
            .query_map(rusqlite::params_from_iter(nulls), |row| row.get(3))
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        planned += 1;
        let aliases = aliases(&statement.sql);
        for detail in &details {
            let Some(rest) = detail.strip_prefix("SCAN ") else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap_or_default();
            let table = aliases.get(name).map_or(name, String::as_str);
            check(
                statement,
                table,
                detail,
                &details.join(" | "),
                &mut failures,
            );
        }
    }
    report(planned, &statements, failures);
    no_table_built_per_stored_message(&conn, &statements);

    // The history goes into an empty database only: a second load is refused, whole.
    let again = Command::new(common::BIN)
        .args(["seed-demo", "--history", "--messages", "100"])
        .env("DATABASE_URL", &url)
        .output()
        .await
        .expect("run haven");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty"));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: make test runs it through scripts/test/with-postgres.sh"]
async fn no_statement_scans_a_growing_table_on_postgres() {
    use sqlx::{Connection, Row};
    let statements = statements_in_store();
    let url = common::fresh_postgres_database().await;
    seed(&url).await;
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    // The synthetic history has no devices with notifications on: give every account one,
    // as a service in use would have, so that the planner sees a table worth its indexes.
    sqlx::raw_sql(
        "INSERT INTO push_subscriptions
             (user_id, session_id, session_ends_at, endpoint, p256dh, auth, words, created_at)
         SELECT id, 'synthetic-' || id, now(), 'https://push.example/' || id, 'k', 'a',
                'private', now()
         FROM users;
         ANALYZE push_subscriptions",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await
        .unwrap();
    // A partial index holds only the rows its predicate picks: reading all of it is bounded.
    let partial: Vec<String> = sqlx::query_scalar(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indpred IS NOT NULL",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut failures = Vec::new();
    let mut planned = 0;
    for (n, statement) in statements
        .iter()
        .filter(|s| s.backends.contains(&Backend::Postgres))
        .enumerate()
    {
        sqlx::raw_sql(&format!("PREPARE plan_{n} AS {}", statement.sql))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", statement.at, statement.sql));
        let parameters = highest_parameter(&statement.sql);
        let nulls = vec!["NULL"; parameters].join(", ");
        let args = if parameters == 0 {
            String::new()
        } else {
            format!("({nulls})")
        };
        let row = sqlx::raw_sql(&format!("EXPLAIN (FORMAT JSON) EXECUTE plan_{n}{args}"))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", statement.at, statement.sql));
        let plan: serde_json::Value = row.try_get(0).expect("a JSON plan");
        planned += 1;
        let mut scans = Vec::new();
        scans_in(&plan[0]["Plan"], &partial, &mut scans);
        for (table, how) in scans {
            check(statement, &table, &how, &plan.to_string(), &mut failures);
        }
    }
    report(planned, &statements, failures);
}

/// Records a failure if `table` grows and the source does not say this scan is meant.
/// The writer's INSERT of a message, its CHECKs and the trigger it fires build no ephemeral
/// table: SQLite builds one for every row that meets `x IN (three or more constants)`
/// (≈ 33k instructions per message; migration 20261210000001, docs/benchmarks.md).
fn no_table_built_per_stored_message(conn: &rusqlite::Connection, statements: &[Statement]) {
    let inserts: Vec<&Statement> = statements
        .iter()
        .filter(|s| {
            s.backends.contains(&Backend::Sqlite) && s.sql.starts_with("INSERT INTO messages")
        })
        .collect();
    assert!(
        !inserts.is_empty(),
        "the writer's INSERT INTO messages not found in store/"
    );
    for statement in inserts {
        let mut explain = conn
            .prepare(&format!("EXPLAIN {}", statement.sql))
            .expect("explain");
        let nulls = vec![rusqlite::types::Null; explain.parameter_count()];
        let opcodes: Vec<String> = explain
            .query_map(rusqlite::params_from_iter(nulls), |row| row.get(1))
            .expect("bytecode")
            .collect::<Result<_, _>>()
            .expect("opcodes");
        assert!(
            opcodes.iter().any(|op| op == "Program"),
            "{}: the aggregates trigger is not in the bytecode",
            statement.at
        );
        assert!(
            !opcodes.iter().any(|op| op == "OpenEphemeral"),
            "{}: builds an ephemeral table for every stored message\n  {}",
            statement.at,
            statement.sql
        );
    }
}

fn check(statement: &Statement, table: &str, how: &str, plan: &str, failures: &mut Vec<String>) {
    if !GROWING.contains(&table) || statement.allowed.iter().any(|(t, _)| t == table) {
        return;
    }
    failures.push(format!(
        "{}: {how} (a scan of {table} without an index bound)\n  {}\n  plan: {plan}",
        statement.at, statement.sql
    ));
}

fn report(planned: usize, statements: &[Statement], failures: Vec<String>) {
    let allowed: BTreeSet<String> = statements
        .iter()
        .flat_map(|s| {
            s.allowed
                .iter()
                .map(|(table, why)| format!("{}: scans {table} ({why})", s.at))
        })
        .collect();
    println!("{planned} statements planned; whole-table reads meant by the source:");
    for line in &allowed {
        println!("  {line}");
    }
    assert!(planned > 40, "only {planned} statements found in store/");
    assert!(
        failures.is_empty(),
        "{} statements scan a growing table:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Migrates the database at `url` and loads the synthetic history into it.
async fn seed(url: &str) {
    for args in [
        vec!["migrate"],
        vec!["seed-demo", "--history", "--messages", HISTORY],
    ] {
        let out = Command::new(common::BIN)
            .args(&args)
            .env("DATABASE_URL", url)
            .env("HAVEN_LOG", "warn")
            .output()
            .await
            .expect("run haven");
        assert!(
            out.status.success(),
            "haven {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The scans in a PostgreSQL plan: sequential scans, and index scans with no condition on
/// the index (a walk of the whole index).
fn scans_in(node: &serde_json::Value, partial: &[String], found: &mut Vec<(String, String)>) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let relation = node["Relation Name"].as_str().unwrap_or_default();
    let index = node["Index Name"].as_str().unwrap_or_default();
    match kind {
        "Seq Scan" => found.push((relation.to_owned(), format!("Seq Scan on {relation}"))),
        "Index Scan" | "Index Only Scan"
            if node.get("Index Cond").is_none() && !partial.iter().any(|p| p == index) =>
        {
            found.push((
                relation.to_owned(),
                format!("{kind} of all of {index} on {relation}"),
            ))
        }
        _ => {}
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        scans_in(child, partial, found);
    }
}

/// `$n` parameters of a PostgreSQL statement: the highest `n`.
fn highest_parameter(sql: &str) -> usize {
    sql.split('$')
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .max()
        .unwrap_or(0)
}

/// Table aliases of a statement (`FROM messages m`, `JOIN users AS u`): alias → table.
fn aliases(sql: &str) -> HashMap<String, String> {
    const NOT_ALIASES: &[&str] = &[
        "WHERE",
        "JOIN",
        "LEFT",
        "ON",
        "GROUP",
        "ORDER",
        "LIMIT",
        "SET",
        "AS",
        "USING",
        "INNER",
        "CROSS",
        "VALUES",
        "SELECT",
        "UNION",
        "RETURNING",
    ];
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    let mut map = HashMap::new();
    for (i, word) in words.iter().enumerate() {
        if !matches!(
            word.to_uppercase().as_str(),
            "FROM" | "JOIN" | "INTO" | "UPDATE"
        ) {
            continue;
        }
        let Some(table) = words.get(i + 1) else {
            continue;
        };
        let mut next = i + 2;
        if words
            .get(next)
            .is_some_and(|w| w.eq_ignore_ascii_case("AS"))
        {
            next += 1;
        }
        if let Some(alias) = words.get(next) {
            if !NOT_ALIASES.contains(&alias.to_uppercase().as_str()) {
                map.insert((*alias).to_owned(), (*table).to_owned());
            }
        }
    }
    map
}

/// Every SQL statement in `server/src/store/`, read from the source.
fn statements_in_store() -> Vec<Statement> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut statements = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if NOT_SERVICE_STATEMENTS.contains(&name.as_str()) {
            continue;
        }
        let relative = file.strip_prefix(&root).unwrap().display().to_string();
        let backends = if relative.starts_with("sqlite/") {
            vec![Backend::Sqlite]
        } else if relative.starts_with("postgres/") {
            vec![Backend::Postgres]
        } else {
            vec![Backend::Sqlite, Backend::Postgres]
        };
        let source = std::fs::read_to_string(&file).unwrap();
        statements.extend(statements_in(&relative, &source, &backends));
    }
    statements
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// A string literal in Rust source: its text (escapes read), where it starts, and the
/// source just before it.
struct Literal {
    text: String,
    line: usize,
    start: usize,
}

/// The statements of one file: each literal that is SQL (with `format!`'s `{CONST}`s
/// filled in from the file's constants), except constants that are only pieces of others.
fn statements_in(file: &str, source: &str, backends: &[Backend]) -> Vec<Statement> {
    let literals = literals(source);
    let mut constants: HashMap<String, String> = HashMap::new();
    let mut constant_of: HashMap<usize, String> = HashMap::new();
    for literal in &literals {
        let before = source[..literal.start].trim_end();
        if let Some(head) = before.strip_suffix('=') {
            let head = head.trim_end();
            // `const NAME: &str = "…"`, not a `let sql = "…"` after an earlier constant.
            if let Some(decl) = head
                .rsplit_once("const ")
                .filter(|(_, rest)| !rest.contains(';') && !rest.contains('}'))
            {
                let name = decl.1.split(':').next().unwrap().trim().to_owned();
                constants.insert(name.clone(), literal.text.clone());
                constant_of.insert(literal.start, name);
            }
        }
    }
    // Constants used as `{NAME}` inside a format string are pieces, not statements.
    let pieces: BTreeSet<&String> = constants
        .keys()
        .filter(|name| {
            literals
                .iter()
                .any(|l| l.text.contains(&format!("{{{name}}}")))
        })
        .collect();
    guard_call_sites(file, source);
    let mut found = Vec::new();
    for literal in &literals {
        if constant_of
            .get(&literal.start)
            .is_some_and(|name| pieces.contains(name))
        {
            continue;
        }
        let in_format = source[..literal.start].trim_end().ends_with("format!(");
        let mut sql = literal.text.clone();
        if in_format {
            for (name, value) in &constants {
                sql = sql.replace(&format!("{{{name}}}"), value);
            }
        }
        let head = sql.trim_start();
        let is_sql = ["SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH "]
            .iter()
            .any(|verb| head.starts_with(verb));
        // The head of a multi-row INSERT built at run time: VALUES read nothing.
        if !is_sql || head.trim_end().ends_with("VALUES") {
            continue;
        }
        if in_format {
            assert!(
                !head.replace("{{", "").contains('{'),
                "{file}:{}: a format! placeholder the plan test cannot fill: {head}",
                literal.line
            );
        }
        let head = head.replace("{{", "{").replace("}}", "}");
        let head = head.as_str();
        found.push(Statement {
            sql: head.to_owned(),
            at: format!("{file}:{}", literal.line),
            backends: backends.to_vec(),
            allowed: allowed_scans(source, literal.start),
        });
    }
    found
}

/// `// plan: scans <table> (<why>)` comments in the three lines above `at`.
fn allowed_scans(source: &str, at: usize) -> Vec<(String, String)> {
    let line_start = source[..at].rfind('\n').unwrap_or(0);
    source[..line_start]
        .lines()
        .rev()
        .take(4)
        .filter_map(|line| line.trim().strip_prefix("// plan: scans "))
        .filter_map(|rest| {
            let (table, why) = rest.split_once(' ')?;
            Some((table.to_owned(), why.trim_matches(['(', ')']).to_owned()))
        })
        .collect()
}

/// Fails if a query is made from anything the plan test cannot read: a statement must be
/// a literal, a `format!` of literals and constants, or a constant.
fn guard_call_sites(file: &str, source: &str) {
    for call in ["sqlx::query", "sqlx::raw_sql", "prepare_cached", "prepare("] {
        for (at, _) in source.match_indices(call) {
            // Past the name and any turbofish to the argument.
            let Some(open) = source[at..].find('(') else {
                continue;
            };
            let argument = source[at + open + 1..].trim_start();
            let constant = argument
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>();
            let readable = argument.starts_with('"')
                || argument.starts_with("&format!(")
                || argument.starts_with("format!(")
                || ["&sql", "sql)", "statement)"]
                    .iter()
                    .any(|v| argument.starts_with(v))
                || (!constant.is_empty()
                    && constant
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
            let line = source[..at].lines().count();
            assert!(
                readable,
                "{file}:{line}: a statement the plan test cannot read; write it as a literal \
                 (or a format! of literals and constants): {}",
                argument.lines().next().unwrap_or_default()
            );
        }
    }
}

/// Every `"…"` string literal outside comments, escapes read (`\` at a line end joins
/// lines as Rust does).
fn literals(source: &str) -> Vec<Literal> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('"', '\'', '\\') or a lifetime: skip the quoted char only.
                if bytes.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else if bytes.get(i + 1) == Some(&b'\\') && bytes.get(i + 3) == Some(&b'\'') {
                    i += 4;
                } else {
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                let line = source[..i].lines().count().max(1);
                let mut text = String::new();
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        match bytes.get(i + 1) {
                            Some(b'\n') => {
                                i += 2;
                                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                                    i += 1;
                                }
                                continue;
                            }
                            Some(b'n') => text.push('\n'),
                            Some(b't') => text.push('\t'),
                            Some(&c) => text.push(c as char),
                            None => {}
                        }
                        i += 2;
                        continue;
                    }
                    let c = source[i..].chars().next().unwrap();
                    text.push(c);
                    i += c.len_utf8();
                }
                i += 1;
                found.push(Literal { text, line, start });
            }
            _ => i += 1,
        }
    }
    found
}
