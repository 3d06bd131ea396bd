//! The HTTP server: one axum router carrying the pages, server functions, the JSON API,
//! Socket.IO and the static site, and the loop that accepts connections for it.

pub mod attachment;
mod fn_status;
mod health;
mod listener;
mod offline;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::store::sessions::Sessions;
use app::backend::{SharedBackend, SharedChatBackend};
use app::protocol::CrisisList;
use app::{shell, App};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::backend::FormBackend;
use crate::auth::service::Accounts;
use crate::auth::session::{self, COOKIE_NAME};
use crate::care::{Care, ServiceTimeZone};
use crate::chat::backend::FormChat;
use crate::chat::Chat;
use crate::cluster;
use crate::config::Config;
use crate::coordination::{OneNode, SharedCoordinator};
use crate::realtime::delivery::SocketDelivery;
use crate::realtime::{self, Realtime};
use crate::security::client_addr;
use crate::security::headers::{self, CspNonce, HeaderPolicy};
use crate::security::origin::{self, PublicOrigin, PublicUrlError};
use crate::state::{AppState, CookiePolicy};
use crate::store;

/// The largest request body accepted (forms, JSON, server functions, polling). A message
/// form with 4000 characters percent-encoded is under 48 KiB.
const BODY_LIMIT: usize = 64 * 1024;

/// Runs Haven on `listener` until `shutdown` completes, then closes every socket, lets
/// open requests finish, stores presence and commits every accepted message before
/// returning. Connects to (and migrates) the configured database, and to Redis when one is
/// configured; once all of that is ready, prints `Haven is listening on http://<addr>` on
/// stdout (`make run` and the tests wait for that first line; logs go to stderr).
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let crisis = CrisisList(crate::care::crisis_resources(
        config.crisis_resources.as_deref(),
    )?);
    let db = store::connect(&config.database_url).await?;
    store::migrate(&db).await?;
    let addr = listener.local_addr()?;
    let origin = public_origin(&config, addr)?;
    if origin.is_https() {
        crate::demo::refuse_if_present(&db).await?;
    }
    crate::auth::password::warm_up().await;

    let sessions = Sessions::new(&db);
    tokio::spawn(delete_expired_sessions(sessions.clone()));

    // Several nodes: Redis carries emits, presence and limits between them; one node keeps
    // them in memory. Either way the domain sees one coordinator.
    let (coordinator, cluster): (SharedCoordinator, _) = match &config.redis_url {
        None => (Arc::new(OneNode::new(config.coordination)), None),
        Some(url) => {
            if store::Backend::of(&config.database_url) != store::Backend::Postgres {
                return Err(ServeError::ClusterNeedsPostgres);
            }
            let connected = cluster::connect(url).await?;
            let health = connected.redis.health().clone();
            tokio::spawn(async move { health.run().await });
            tracing::info!(node = %connected.redis.node(), "one of several nodes (Redis)");
            let nodes = cluster::Nodes::new(connected.redis.clone(), config.coordination);
            (Arc::new(nodes), Some(connected))
        }
    };
    let redis = cluster.as_ref().map(|c| c.redis.health().clone());

    // The chat domain publishes through the port; Socket.IO rooms deliver.
    let delivery = Arc::new(SocketDelivery::default());
    let mut care = Care::new(
        db.clone(),
        ServiceTimeZone::new(config.time_zone.as_deref())?,
        crisis.0.clone(),
    );
    if redis.is_some() {
        // Another node may save a psychiatrist's settings.
        care = care.with_cache_lifetime(SHARED_SETTINGS_FRESH_FOR);
    }
    // Reminders between visits go to Web Push, which asks the sockets who is watching.
    let push = crate::push::Push::start(
        db.clone(),
        &config.push,
        &origin.to_string(),
        config.session.absolute,
        delivery.clone(),
    )
    .await?;
    let publisher = Arc::new(crate::chat::Split {
        live: delivery.clone(),
        reminders: push.clone(),
    });
    let chat = Arc::new(Chat::new(
        db.clone(),
        publisher,
        coordinator.clone(),
        Arc::new(care),
    )?);
    // How late the runtime runs its tasks: a send is refused `busy` when it is far behind.
    chat.admission().set_limit(config.busy_after);
    tokio::spawn(crate::chat::admission::watch_runtime(chat.admission()));
    let live = Realtime {
        sessions: sessions.clone(),
        chat: chat.clone(),
        watching_for: config.push.hidden_after,
        origin: origin.clone(),
        session_absolute: config.session.absolute,
        redis: redis.clone(),
    };
    let adapter = cluster.map(|c| (c.redis.health().clone(), c.subscriber));
    let (socket_layer, sockets) =
        realtime::start(live, &delivery, db.clone(), config.session_check, adapter).await?;
    let state = AppState {
        leptos: leptos_options(&config),
        accounts: Arc::new(
            Accounts::new(db.clone(), coordinator, delivery).with_lifetime(config.session),
        ),
        chat: chat.clone(),
        push,
        cookies: CookiePolicy {
            secure: origin.is_https(),
        },
        db,
        crisis,
        redis,
    };
    let app = router(state, sessions, socket_layer, &config, &origin);
    println!("Haven is listening on http://{addr}");
    println!("Public URL: {origin}");

    // On shutdown: close every socket first (their long polls would hold the drain), then
    // let open requests finish, then store presence and commit what was accepted.
    let stop = async move {
        shutdown.await;
        sockets.close().await;
    };
    listener::serve(listener, app, config.header_timeout, stop).await;
    chat.shut_down().await;
    tracing::info!("stopped");
    Ok(())
}

/// The configured public origin, or for development `http://` + the bound address. A
/// server listening on every interface has no address to derive it from.
fn public_origin(config: &Config, bound: SocketAddr) -> Result<PublicOrigin, ServeError> {
    if let Some(origin) = &config.public_origin {
        return Ok(origin.clone());
    }
    if bound.ip().is_unspecified() {
        return Err(ServeError::PublicUrlNeeded(bound));
    }
    Ok(PublicOrigin::parse(&format!("http://{bound}"))?)
}

/// How long a node believes the availability settings it read, with several nodes.
const SHARED_SETTINGS_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// Why the server would not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the listening socket")]
    Listener(#[from] std::io::Error),
    #[error(transparent)]
    CrisisResources(#[from] crate::care::ResourcesError),
    #[error(transparent)]
    TimeZone(#[from] crate::care::TimeZoneError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error(
        "several nodes (HAVEN_REDIS_URL) share one PostgreSQL database: set DATABASE_URL to \
         postgres://… (each node's own SQLite file would be a different service)"
    )]
    ClusterNeedsPostgres,
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    #[error(transparent)]
    Sockets(#[from] realtime::StartError),
    #[error("Web Push could not start")]
    Push(#[from] crate::push::PushError),
    #[error(
        "listening on {0} (every interface) needs the address people use: set --public-url / \
         HAVEN_PUBLIC_URL, e.g. https://haven.example.edu"
    )]
    PublicUrlNeeded(SocketAddr),
    #[error(transparent)]
    PublicUrl(#[from] PublicUrlError),
}

/// The whole application as one router. Layers, from the outside in: trace, security
/// headers, client address, origin check on state changes, body limit, Socket.IO, then
/// the session for pages and the API.
pub fn router(
    state: AppState,
    sessions: Sessions,
    socket_layer: realtime::Layer,
    config: &Config,
    origin: &PublicOrigin,
) -> Router {
    let backend: SharedBackend = Arc::new(FormBackend {
        accounts: state.accounts.clone(),
        secure_cookies: origin.is_https(),
    });
    let chat_backend: SharedChatBackend = Arc::new(FormChat {
        chat: state.chat.clone(),
    });
    let push_backend: app::backend::SharedPushBackend = Arc::new(crate::push::backend::FormPush {
        push: state.push.clone(),
    });
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(origin.is_https())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(config.session.idle.as_secs()).unwrap_or(i64::MAX),
        )))
        // Every request of a signed-in user pushes the expiry forward ("inactivity").
        .with_always_save(true);

    // What every server-rendered page and server function gets as Leptos context.
    let crisis = state.crisis.clone();
    let context = move || {
        provide_context(backend.clone());
        provide_context(chat_backend.clone());
        provide_context(push_backend.clone());
        provide_context(crisis.clone());
        // The nonce of this response's CSP header, for Leptos' inline scripts.
        let nonce = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
        if let Some(CspNonce(nonce)) = nonce {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    };
    let leptos_options = state.leptos.clone();
    // Pages, server functions and the account API need the session; static files don't.
    let with_session = Router::new()
        .nest("/api/auth", crate::auth::http::routes())
        .merge(crate::privacy::http::routes())
        .merge(crate::auth::recovery_http::routes())
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            context.clone(),
            move || shell(leptos_options.clone()),
        )
        .layer(axum::middleware::from_fn(fn_status::by_error_code))
        .layer(axum::middleware::from_fn(session::require_sign_in))
        .layer(from_fn_with_state(config.session, session::end_outlived))
        .layer(axum::middleware::from_fn(session::apply_idle_limit))
        .layer(session_layer)
        .layer(axum::middleware::from_fn(session::browser_session_cookie));

    let header_policy = Arc::new(HeaderPolicy {
        https: origin.is_https(),
        dev_reload: (state.leptos.env == Env::DEV)
            .then(|| format!("ws://{}:{}", config.addr.ip(), state.leptos.reload_port)),
    });
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/offline.html", get(offline::page))
        .merge(with_session)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell));
    let app = match socket_layer {
        realtime::Layer::Here(layer) => app.layer(layer),
        realtime::Layer::Shared(layer) => app.layer(layer),
    };
    app.layer(axum::middleware::map_request(realtime::detach_request_head))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(from_fn_with_state(
            origin.clone(),
            origin::refuse_foreign_writes,
        ))
        .layer(from_fn_with_state(
            config.trusted_proxies.clone(),
            client_addr::attribute,
        ))
        .layer(from_fn_with_state(header_policy, headers::add))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Leptos settings: the site is built by cargo-leptos into `site_root`.
fn leptos_options(config: &Config) -> LeptosOptions {
    let env = match std::env::var("LEPTOS_ENV").as_deref() {
        Ok("DEV") | Ok("dev") | Ok("development") => Env::DEV,
        _ => Env::PROD,
    };
    LeptosOptions::builder()
        .output_name("haven")
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .env(env)
        .hash_files(site_is_hashed())
        .build()
}

/// Whether cargo-leptos built the site with content-hashed names: it then writes `hash.txt`
/// beside this binary (one per profile, as the site directories are). Leptos would panic
/// rendering a page if told to hash without the file, so its presence decides.
fn site_is_hashed() -> bool {
    let hashed = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE).is_file()))
        .unwrap_or(false);
    if !hashed {
        tracing::warn!("no {HASH_FILE} beside the binary: serving the site's unhashed names");
    }
    hashed
}

/// cargo-leptos' list of the site's content hashes (its default name).
const HASH_FILE: &str = "hash.txt";

async fn delete_expired_sessions(sessions: Sessions) {
    use tower_sessions::ExpiredDeletion;
    if let Err(e) = sessions
        .continuously_delete_expired(tokio::time::Duration::from_secs(3600))
        .await
    {
        tracing::error!(error = %e, "expired-session cleanup stopped");
    }
}

/// Completes at the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
