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
