//! `haven`: the server binary and its admin commands.

mod auth;
mod chat;
mod cli;
mod config;
mod realtime;
mod state;
mod store;
mod web;

use clap::Parser;

/// mimalloc returns freed memory to the system; glibc's malloc keeps the 19 MiB argon2
/// buffers of past sign-ins in its arenas (hundreds of MiB after a burst of logins).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    match cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("haven: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
