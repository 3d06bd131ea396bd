//! Server configuration: flags, each with an environment variable, resolved into [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::auth::throttle::ThrottleLimits;
use crate::chat::SendRate;

/// `haven serve` flags.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the URL is printed).
    #[arg(long, env = "HAVEN_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Mark cookies `Secure`. Default: on unless the address is loopback.
    #[arg(long, env = "HAVEN_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,
    /// Sessions end after this many seconds without activity (default 14 days).
    #[arg(long, env = "HAVEN_SESSION_IDLE_SECS", default_value_t = 14 * 24 * 3600)]
    pub session_idle_secs: u64,
    /// Where the built site (`pkg/`, assets) is served from.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Extra origins allowed to open sockets, comma-separated (the site's own is always allowed).
    #[arg(long, env = "HAVEN_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Failed sign-ins per username within the window before a wait is imposed.
    #[arg(long, env = "HAVEN_LOGIN_FAILURES_PER_USERNAME", default_value_t = 8)]
    pub login_failures_per_username: usize,
    /// Failed sign-ins per client address within the window before a wait is imposed.
    #[arg(long, env = "HAVEN_LOGIN_FAILURES_PER_ADDRESS", default_value_t = 40)]
    pub login_failures_per_address: usize,
    /// Messages a user may send per second, sustained.
    #[arg(long, env = "HAVEN_SEND_RATE_PER_SEC", default_value_t = 5.0)]
    pub send_rate_per_sec: f64,
    /// Messages a user may send at once after a pause.
    #[arg(long, env = "HAVEN_SEND_BURST", default_value_t = 20.0)]
    pub send_burst: f64,
    /// Milliseconds a user stays online after their last socket closed (a reload must not
    /// flicker).
    #[arg(long, env = "HAVEN_PRESENCE_GRACE_MS", default_value_t = 5000)]
    pub presence_grace_ms: u64,
    /// The sign-in throttle's window in seconds.
    #[arg(long, env = "HAVEN_LOGIN_WINDOW_SECS", default_value_t = 15 * 60)]
    pub login_window_secs: u64,
}

/// Resolved server settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub secure_cookies: bool,
    pub session_idle: Duration,
    pub site_root: PathBuf,
    pub allowed_origins: Vec<String>,
    pub login_limits: ThrottleLimits,
    pub send_rate: SendRate,
    pub presence_grace: Duration,
}

impl Config {
    /// Applies defaults that depend on other settings.
    pub fn resolve(args: ServeArgs, database_url: String) -> Self {
        Self {
            secure_cookies: args.secure_cookies.unwrap_or(!args.addr.ip().is_loopback()),
            addr: args.addr,
            database_url,
            session_idle: Duration::from_secs(args.session_idle_secs),
            site_root: args.site_root,
            allowed_origins: args.allowed_origins,
            login_limits: ThrottleLimits {
                window: Duration::from_secs(args.login_window_secs),
                per_username: args.login_failures_per_username,
                per_address: args.login_failures_per_address,
            },
            presence_grace: Duration::from_millis(args.presence_grace_ms),
            send_rate: SendRate {
                per_second: args.send_rate_per_sec,
                burst: args.send_burst,
            },
        }
    }
}
