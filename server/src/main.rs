//! `haven`: parses the command line and runs it (the server and its admin commands live in
//! the `server` library).

use server::{cli, report};

use clap::Parser;

use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    tune_malloc();
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
            eprintln!("haven: {}", report::chain(&e));
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

/// glibc's malloc, set up for this server (measured in docs/benchmarks.md):
/// - a fixed mmap threshold, so each sign-in's 19 MiB argon2 buffer is a mapping of its own,
///   returned to the system when freed. By default glibc raises the threshold after such a
///   free, and later buffers then stay in its heap for good (hundreds of MiB after a burst
///   of sign-ins);
/// - two arenas: socket state is many small long-lived allocations, and an arena per
///   thread only spreads them over more partly used pages.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; this runs before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
