//! The `haven` command line: `serve` (default), `migrate`, `user add`, `seed-demo`, and for
//! administrators `audit` (the access record) and `purge` (the retention period).

use std::io::{BufRead, IsTerminal};

use app::error::AuthError;
use app::protocol::{ConversationId, Role, Timestamp};
use clap::{Parser, Subcommand, ValueEnum};
use thiserror::Error;

use crate::auth::password;
use crate::auth::service::{Accounts, NewAccount};
use crate::config::{Config, ServeArgs};
use crate::store::access::{AccessRow, AuditFilter};
use crate::store::{self, access, retention, users, Db, StoreError};

/// Haven: a real-time chat between university students and psychiatrists.
#[derive(Debug, Parser)]
#[command(name = "haven", version)]
pub struct Cli {
    /// Database URL (SQLite), created if missing.
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = "sqlite://data/haven.db"
    )]
    pub database_url: String,
    /// Log filter, e.g. `info` or `haven=debug,tower_http=info`.
    #[arg(long, global = true, env = "HAVEN_LOG", default_value = "info")]
    pub log: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default). Boxed: its many settings would make every command as
    /// large.
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Create demo accounts (and print them), or synthetic accounts in bulk for load tests.
    SeedDemo(SeedArgs),
    /// Print the access record: who opened which conversation's content, when, how and
    /// from which address (never a message).
    Audit(AuditArgs),
    /// Apply the service's retention period: delete older messages (docs/privacy.md).
    Purge(PurgeArgs),
    /// Copy a SQLite database into the empty PostgreSQL database of DATABASE_URL (which
    /// is migrated first). Stop the server first; everyone signs in again afterwards.
    Import(ImportArgs),
}

/// `haven import` options.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The SQLite database to copy, e.g. `sqlite://data/haven.db`.
    #[arg(long)]
    pub from: String,
}

/// `haven audit` filters; without any, the whole record.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only accesses to this conversation (its id).
    #[arg(long)]
    pub conversation: Option<i64>,
    /// Only accesses by this account (its sign-in name).
    #[arg(long)]
    pub user: Option<String>,
    /// Only from this time on: a date (`2026-11-01`, midnight UTC) or an RFC 3339 time.
    #[arg(long, value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// Print a JSON array instead of one line per access.
    #[arg(long)]
    pub json: bool,
}

/// `haven purge` options.
#[derive(Debug, clap::Args)]
pub struct PurgeArgs {
    /// The retention period: messages stored longer ago than this many days are deleted,
    /// written `365d` (or `365`).
    #[arg(long, value_parser = parse_days)]
    pub older_than: u32,
    /// Count what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Reads `--since`: a date at midnight UTC, or an RFC 3339 time.
fn parse_since(text: &str) -> Result<Timestamp, String> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    Timestamp::parse(&full)
        .map_err(|_| format!("'{text}' is not a date (2026-11-01) or an RFC 3339 time"))
}

/// Reads `--older-than`: whole days, `365d` or `365`, at least one.
fn parse_days(text: &str) -> Result<u32, String> {
    text.strip_suffix('d')
        .unwrap_or(text)
        .parse::<u32>()
        .ok()
        .filter(|days| *days >= 1)
        .ok_or_else(|| format!("'{text}' is not a number of days such as 365d"))
}

/// `haven user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is prompted for, or read from the first line of
    /// stdin when stdin is not a terminal.
    Add {
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// A short line shown in the directory (psychiatrists).
        #[arg(long, default_value = "")]
        bio: String,
    },
    /// Set a new password for an account and end all its sessions (signed out
    /// everywhere). The password is read like `user add`'s.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Student,
    Psychiatrist,
}

impl From<RoleArg> for Role {
    fn from(value: RoleArg) -> Self {
        match value {
            RoleArg::Student => Role::Student,
            RoleArg::Psychiatrist => Role::Psychiatrist,
        }
    }
}

/// `haven seed-demo` flags. Without any, creates the demo accounts. With `--students`,
/// `--psychiatrists` or `--prefix`, creates SYNTHETIC accounts `P-s0…P-s<N-1>` and
/// `P-p0…P-p<M-1>` for load tests: they all share one password hash (hashed once, so
/// 10,000 accounts take seconds), which is fine for synthetic accounts only.
#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// Delete the demo accounts (and their conversations) instead of creating them.
    #[arg(long, conflicts_with_all = ["students", "psychiatrists", "prefix"])]
    pub remove: bool,
    /// Synthetic students to create.
    #[arg(long)]
    pub students: Option<usize>,
    /// Synthetic psychiatrists to create.
    #[arg(long)]
    pub psychiatrists: Option<usize>,
    /// Username prefix of synthetic accounts.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Password of every synthetic account.
    #[arg(long, default_value = "bench-password")]
    pub password: String,
    /// Fill an empty database with three years of a large university's synthetic history
    /// (accounts `hist-p0…`, `hist-s0…`; docs/benchmarks.md), for measuring at scale.
    #[arg(long, conflicts_with_all = ["remove", "students", "psychiatrists", "prefix"])]
    pub history: bool,
    /// With `--history`: about how many messages.
    #[arg(long, default_value_t = 3_000_000, requires = "history")]
    pub messages: usize,
}

/// A command failed.
#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Account(String),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error(transparent)]
    Serve(#[from] crate::web::ServeError),
    #[error(transparent)]
    PublicUrl(#[from] crate::security::origin::PublicUrlError),
    #[error(transparent)]
    CrisisResources(#[from] crate::care::ResourcesError),
    #[error(transparent)]
    TimeZone(#[from] crate::care::TimeZoneError),
}

impl From<AuthError> for CliError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Invalid(fields) => CliError::Account(
                fields
                    .into_iter()
                    .map(|f| f.message)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            other => CliError::Account(other.to_string()),
        }
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        None => {
            // No subcommand: serve with flags' defaults and the environment.
            #[derive(Parser)]
            struct ServeOnly {
                #[command(flatten)]
                args: ServeArgs,
            }
            let ServeOnly { args } = ServeOnly::parse_from(["haven"]);
            serve(Config::resolve(args, cli.database_url)?).await
        }
        Some(Command::Serve(args)) => serve(Config::resolve(*args, cli.database_url)?).await,
        Some(Command::Migrate) => {
            open(&cli.database_url).await?;
            println!("migrations applied");
            Ok(())
        }
        Some(Command::User(UserCommand::Add {
            role,
            username,
            display_name,
            bio,
        })) => {
            let db = open(&cli.database_url).await?;
            let password = read_password()?;
            let user = accounts(db)
                .create(NewAccount {
                    username: &username,
                    display_name: &display_name,
                    password: &password,
                    role: role.into(),
                    bio: &bio,
                })
                .await?;
            println!("created {} {} (id {})", user.role, user.username, user.id);
            Ok(())
        }
        Some(Command::User(UserCommand::ResetPassword { username })) => {
            let db = open(&cli.database_url).await?;
            let password = read_password()?;
            let ended = accounts(db).reset_password(&username, &password).await?;
            println!("password of {username} reset; {ended} sessions ended");
            Ok(())
        }
        Some(Command::SeedDemo(args)) => {
            let db = open(&cli.database_url).await?;
            if args.remove {
                let removed = crate::demo::remove(&db).await?;
                println!("removed {removed} demo accounts");
                Ok(())
            } else if args.history {
                let started = std::time::Instant::now();
                let hash = password::hash(args.password.clone()).await?;
                let loaded = crate::demo::history::seed(&db, args.messages, &hash).await?;
                println!(
                    "history loaded in {:.1} s: {} accounts, {} conversations, {} messages, \
                     {} accesses, {} live sessions; every account's password: {}",
                    started.elapsed().as_secs_f64(),
                    loaded.users,
                    loaded.conversations,
                    loaded.messages,
                    loaded.accesses,
                    loaded.sessions,
                    args.password,
                );
                Ok(())
            } else if args.students.is_none()
                && args.psychiatrists.is_none()
                && args.prefix.is_none()
            {
                Ok(crate::demo::seed(&db).await?)
            } else {
                seed_synthetic(&db, &args).await
            }
        }
        Some(Command::Audit(args)) => {
            let db = open(&cli.database_url).await?;
            audit(&db, &args).await
        }
        Some(Command::Purge(args)) => {
            let db = open(&cli.database_url).await?;
            let cutoff = Timestamp::now().plus_millis(-i64::from(args.older_than) * 86_400_000);
            let purged = retention::purge(&db, cutoff, args.dry_run).await?;
            println!(
                "{} messages older than {} days (before {cutoff}), {} conversations and {} \
                 deleted accounts left empty: {}",
                purged.messages,
                args.older_than,
                purged.conversations,
                purged.accounts,
                if args.dry_run {
                    "would be deleted (dry run)"
                } else {
                    "deleted"
                },
            );
            Ok(())
        }
        Some(Command::Import(args)) => {
            if store::Backend::of(&args.from) != store::Backend::Sqlite
                || store::Backend::of(&cli.database_url) != store::Backend::Postgres
            {
                return Err(CliError::Account(
                    "haven import copies --from sqlite://… into a postgres:// DATABASE_URL.".into(),
                ));
            }
            // Opening would create a missing file: an empty import is no import.
            let file = args
                .from
                .trim_start_matches("sqlite:")
                .trim_start_matches("//");
            let file = file.split('?').next().unwrap_or_default();
            if !std::path::Path::new(file).is_file() {
                return Err(CliError::Account(format!(
                    "There is no SQLite database at {file}."
                )));
            }
            let from = open(&args.from).await?;
            let to = open(&cli.database_url).await?;
            for (table, rows) in store::import::sqlite_into_postgres(&from, &to).await? {
                println!("{table}: {rows} rows");
            }
            println!("imported");
            Ok(())
        }
    }
}

/// Prints the access records matching the filters, oldest first.
async fn audit(db: &Db, args: &AuditArgs) -> Result<(), CliError> {
    let user = match &args.user {
        Some(name) => Some(
            users::id_by_username(db, name)
                .await?
                .ok_or_else(|| CliError::Account(format!("no account is called '{name}'")))?,
        ),
        None => None,
    };
    let filter = AuditFilter {
        conversation: args.conversation.map(ConversationId),
        user,
        since: args.since,
    };
    let rows = access::audit(db, &filter).await?;
    if args.json {
        let entries: Vec<serde_json::Value> = rows.iter().map(audit_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).map_err(std::io::Error::other)?
        );
    } else {
        for row in &rows {
            println!("{}", audit_line(row));
        }
        if rows.is_empty() {
            eprintln!("no access matches");
        }
    }
    Ok(())
}

/// Who, as the record names them: the account, or an administrator.
fn actor(row: &AccessRow) -> String {
    match (row.user_id, &row.username, row.role) {
        (Some(id), Some(name), Some(role)) => format!("{name} ({role}, id {id})"),
        (Some(id), _, _) => format!("account {id} (removed)"),
        (None, _, _) => "administrator".to_owned(),
    }
}

/// One access as a line: time, who, conversation, how, address.
fn audit_line(row: &AccessRow) -> String {
    let conversation = match row.conversation_id {
        Some(id) => format!("conversation {id}"),
        None => "every conversation".to_owned(),
    };
    format!(
        "{}  {}  {}  {}  from {}",
        row.at,
        actor(row),
        conversation,
        row.kind.as_str(),
        row.address.as_deref().unwrap_or("-"),
    )
}

fn audit_json(row: &AccessRow) -> serde_json::Value {
    serde_json::json!({
        "id": row.id,
        "at": row.at,
        "userId": row.user_id,
        "username": row.username,
        "role": row.role,
        "conversationId": row.conversation_id,
        "action": row.kind,
        "address": row.address,
    })
}

/// The account service as the CLI uses it: no connections to tell, default throttles.
fn accounts(db: Db) -> Accounts {
    let coordinator = crate::coordination::OneNode::new(Default::default());
    Accounts::new(
        db,
        std::sync::Arc::new(coordinator),
        std::sync::Arc::new(crate::chat::events::NoConnections),
    )
}

/// Binds the configured address and serves until SIGINT or SIGTERM.
async fn serve(config: Config) -> Result<(), CliError> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    crate::serve(listener, config, crate::web::shutdown_signal()).await?;
    Ok(())
}

async fn open(url: &str) -> Result<Db, CliError> {
    let db = store::connect(url).await?;
    store::migrate(&db).await?;
    Ok(db)
}

fn read_password() -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(CliError::Account("The passwords differ.".into()));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn seed_synthetic(db: &Db, args: &SeedArgs) -> Result<(), CliError> {
    let prefix = args.prefix.as_deref().unwrap_or("bench");
    let hash = password::hash(args.password.clone()).await?;
    let mut names = Vec::new();
    for i in 0..args.students.unwrap_or(0) {
        names.push((
            format!("{prefix}-s{i}"),
            format!("Synthetic student {i}"),
            Role::Student,
        ));
    }
    for i in 0..args.psychiatrists.unwrap_or(0) {
        names.push((
            format!("{prefix}-p{i}"),
            format!("Synthetic psychiatrist {i}"),
            Role::Psychiatrist,
        ));
    }
    if let Some((bad, _, _)) = names
        .iter()
        .find(|(n, _, _)| app::validation::check_username(n).is_err())
    {
        return Err(CliError::Account(format!(
            "'{bad}' is not a valid username; choose a shorter prefix"
        )));
    }
    let new: Vec<users::NewUser> = names
        .iter()
        .map(|(username, display_name, role)| users::NewUser {
            username,
            display_name,
            role: *role,
            bio: "",
            password_hash: &hash,
            recovery_hash: None,
        })
        .collect();
    let created = users::insert_many_skipping_existing(db, &new).await?;
    println!(
        "synthetic accounts: {created} created, {} already existed",
        new.len() as u64 - created
    );
    Ok(())
}
