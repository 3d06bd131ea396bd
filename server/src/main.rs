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
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let result = match runtime() {
        Ok(runtime) => runtime.block_on(cli::run(cli)),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("haven: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// One worker thread per core the process may run on. On a single core, the current-thread
/// scheduler does the same work without the multi-thread one's hand-offs between queues
/// and threads.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut builder = if cores == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}
