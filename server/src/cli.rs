//! The `haven` command line: `serve` (default), `migrate`, `user add`, `seed-demo`.

use std::io::{BufRead, IsTerminal};

use app::error::AuthError;
use app::protocol::Role;
use clap::{Parser, Subcommand, ValueEnum};
use thiserror::Error;

use crate::auth::password;
use crate::auth::service::{Accounts, NewAccount};
use crate::config::{Config, ServeArgs};
use crate::store::{self, users, Db, StoreError};

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
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Create demo accounts (and print them), or synthetic accounts in bulk for load tests.
    SeedDemo(SeedArgs),
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
            crate::web::serve(Config::resolve(args, cli.database_url)?).await
        }
        Some(Command::Serve(args)) => {
            crate::web::serve(Config::resolve(args, cli.database_url)?).await
        }
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
            let accounts = Accounts::new(
                db,
                Default::default(),
                std::sync::Arc::new(crate::chat::events::NoConnections),
            );
            let user = accounts
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
        Some(Command::SeedDemo(args)) => {
            let db = open(&cli.database_url).await?;
            if args.remove {
                let removed = crate::demo::remove(&db).await?;
                println!("removed {removed} demo accounts");
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
    }
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
        })
        .collect();
    let created = users::insert_many_skipping_existing(db, &new).await?;
    println!(
        "synthetic accounts: {created} created, {} already existed",
        new.len() as u64 - created
    );
    Ok(())
}
