//! Server configuration: flags, each with an environment variable, resolved into [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::auth::session::SessionLifetime;
use crate::coordination::{self, SendRate, ThrottleLimits};
use crate::security::client_addr::{Network, TrustedProxies};
use crate::security::origin::{PublicOrigin, PublicUrlError};

/// `haven serve` flags.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the URL is printed).
    #[arg(long, env = "HAVEN_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// The URL people type to reach Haven, e.g. `https://haven.example.edu`. It alone
    /// decides which origin may send forms and open sockets, whether cookies are `Secure`
    /// and whether HSTS is sent. Default: `http://` + the listen address (development).
    #[arg(long, env = "HAVEN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed, comma-separated addresses or
    /// CIDR blocks (e.g. `127.0.0.1,10.0.0.0/8`). Default: none.
    #[arg(long, env = "HAVEN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<Network>,
    /// Sessions end after this many seconds without a request (default 3 days).
    #[arg(long, env = "HAVEN_SESSION_IDLE_SECS", default_value_t = 3 * 24 * 3600)]
    pub session_idle_secs: u64,
    /// Sessions end this many seconds after sign-in, however active (default 7 days).
    #[arg(long, env = "HAVEN_SESSION_ABSOLUTE_SECS", default_value_t = 7 * 24 * 3600)]
    pub session_absolute_secs: u64,
    /// A session signed in as "This is a shared computer" ends after this many seconds
    /// without activity (default 15 minutes), and when the browser closes.
    #[arg(long, env = "HAVEN_SHARED_IDLE_SECS", default_value_t = 15 * 60)]
    pub shared_idle_secs: u64,
    /// A psychiatrist's session ends after this many seconds without activity (default 30
    /// minutes), as health-record systems do.
    #[arg(long, env = "HAVEN_PSYCHIATRIST_IDLE_SECS", default_value_t = 30 * 60)]
    pub psychiatrist_idle_secs: u64,
    /// How often open sockets are checked against their sessions, in seconds.
    #[arg(long, env = "HAVEN_SESSION_CHECK_SECS", default_value_t = 30)]
    pub session_check_secs: u64,
    /// A request whose headers have not all arrived after this many seconds is cut off.
    #[arg(long, env = "HAVEN_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Where the built site (`pkg/`, assets) is served from.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Failed sign-ins per username before each further attempt must wait (1 s, 2 s, 4 s…).
    #[arg(long, env = "HAVEN_LOGIN_FAILURES_PER_USERNAME", default_value_t = 5)]
    pub login_failures_per_username: u32,
    /// The longest wait, in seconds, that failures against one username can impose.
    #[arg(long, env = "HAVEN_LOGIN_MAX_DELAY_SECS", default_value_t = 300)]
    pub login_max_delay_secs: u64,
    /// Failed sign-ins per client address within the window before a wait is imposed.
    #[arg(long, env = "HAVEN_LOGIN_FAILURES_PER_ADDRESS", default_value_t = 40)]
    pub login_failures_per_address: usize,
    /// Registrations per client address within the window.
    #[arg(long, env = "HAVEN_REGISTRATIONS_PER_ADDRESS", default_value_t = 10)]
    pub registrations_per_address: usize,
    /// The window of the sign-in and registration throttles, in seconds.
    #[arg(long, env = "HAVEN_LOGIN_WINDOW_SECS", default_value_t = 15 * 60)]
    pub login_window_secs: u64,
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
    /// The crisis resources every screen shows: a TOML file (see
    /// `docs/crisis-resources.example.toml`), checked at start. Default: emergency
    /// services only, with a warning.
    #[arg(long, env = "HAVEN_CRISIS_RESOURCES")]
    pub crisis_resources: Option<PathBuf>,
    /// The service's time zone, in which office hours are set and shown (an IANA name such
    /// as `Europe/London`). Default: the machine's.
    #[arg(long, env = "HAVEN_TIME_ZONE")]
    pub time_zone: Option<String>,
    /// Several nodes: the Redis they share (`redis://host:6379/0`), for Socket.IO fan-out,
    /// presence and rate limits. Needs a PostgreSQL `DATABASE_URL`. Default: one node.
    #[arg(long, env = "HAVEN_REDIS_URL")]
    pub redis_url: Option<String>,
    /// Web Push: the VAPID private key (P-256 scalar, base64url). Default: one made on first
    /// start and kept in the database (docs/operating.md).
    #[arg(long, env = "HAVEN_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,
    /// Web Push: the contact push services may use (`mailto:` or `https:`). Default: the
    /// public URL.
    #[arg(long, env = "HAVEN_VAPID_SUBJECT")]
    pub vapid_subject: Option<String>,
    /// Seconds a person's tabs must all have been hidden before a message is pushed to them.
    #[arg(long, env = "HAVEN_PUSH_HIDDEN_SECS", default_value_t = 60)]
    pub push_hidden_secs: u64,
    /// Milliseconds behind (the runtime's delay, the writer's, or the runtime without rest)
    /// past which new messages are refused `busy` (docs/decisions.md, "Past the limit").
    #[arg(long, env = "HAVEN_BUSY_AFTER_MS", default_value_t = 100)]
    pub busy_after_ms: u64,
    /// For tests only: accept push endpoints on loopback addresses over plain `http`.
    #[arg(long, env = "HAVEN_PUSH_ALLOW_LOOPBACK", default_value_t = false)]
    pub push_allow_loopback: bool,
}

/// Resolved server settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    /// The configured public origin; `None`: derived from the bound address at start.
    pub public_origin: Option<PublicOrigin>,
    pub trusted_proxies: TrustedProxies,
    pub session: SessionLifetime,
    pub session_check: Duration,
    pub header_timeout: Duration,
    pub site_root: PathBuf,
    /// Presence grace, the send and typing rates, the sign-in throttle.
    pub coordination: coordination::Settings,
    pub crisis_resources: Option<PathBuf>,
    pub time_zone: Option<String>,
    pub redis_url: Option<String>,
    /// Web Push settings.
    pub push: crate::push::PushConfig,
    /// Behind by more than this, new messages are refused `busy`.
    pub busy_after: Duration,
}

/// The admission watch's tick: a limit shorter than one cannot be measured.
const TICK_MS: u64 = crate::chat::admission::TICK.as_millis() as u64;

impl Config {
    /// Checks the settings and applies defaults that depend on other settings.
    pub fn resolve(args: ServeArgs, database_url: String) -> Result<Self, PublicUrlError> {
        let public_origin = args
            .public_url
            .as_deref()
            .map(PublicOrigin::parse)
            .transpose()?;
        Ok(Self {
            addr: args.addr,
            database_url,
            public_origin,
            trusted_proxies: TrustedProxies(args.trusted_proxies),
            session: SessionLifetime {
                idle: Duration::from_secs(args.session_idle_secs),
                absolute: Duration::from_secs(args.session_absolute_secs),
                shared_idle: Duration::from_secs(args.shared_idle_secs.max(1)),
                psychiatrist_idle: Duration::from_secs(args.psychiatrist_idle_secs.max(1)),
            },
            session_check: Duration::from_secs(args.session_check_secs.max(1)),
            header_timeout: Duration::from_secs(args.header_timeout_secs.max(1)),
            site_root: args.site_root,
            coordination: coordination::Settings {
                grace: Duration::from_millis(args.presence_grace_ms),
                send: SendRate {
                    per_second: args.send_rate_per_sec,
                    burst: args.send_burst,
                },
                typing: coordination::Settings::TYPING,
                sign_in: ThrottleLimits {
                    window: Duration::from_secs(args.login_window_secs),
                    per_username: args.login_failures_per_username,
                    max_delay: Duration::from_secs(args.login_max_delay_secs),
                    per_address: args.login_failures_per_address,
                    registrations_per_address: args.registrations_per_address,
                },
            },
            crisis_resources: args.crisis_resources,
            time_zone: args.time_zone,
            redis_url: args.redis_url.filter(|url| !url.is_empty()),
            push: crate::push::PushConfig {
                vapid_private_key: args.vapid_private_key.filter(|k| !k.is_empty()),
                vapid_subject: args.vapid_subject.filter(|s| !s.is_empty()),
                hidden_after: Duration::from_secs(args.push_hidden_secs),
                allow_loopback: args.push_allow_loopback,
            },
            busy_after: Duration::from_millis(args.busy_after_ms.max(TICK_MS)),
        })
    }
}
