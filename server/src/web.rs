//! The HTTP server: one axum router carrying the pages, server functions, the JSON API,
//! Socket.IO and the static site.

use std::net::SocketAddr;
use std::sync::Arc;

use app::backend::{SharedBackend, SharedChatBackend};
use app::{shell, App};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use socketioxide::layer::SocketIoLayer;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

use crate::auth::backend::FormBackend;
use crate::auth::service::Accounts;
use crate::auth::session::COOKIE_NAME;
use crate::chat::backend::FormChat;
use crate::chat::Chat;
use crate::config::Config;
use crate::realtime::presence::Presence;
use crate::realtime::{self, Realtime};
use crate::state::{AppState, CookiePolicy};
use crate::store::{self, Db};

/// Starts everything and serves until SIGINT/SIGTERM. Prints the URL once listening.
pub async fn serve(config: Config) -> Result<(), crate::cli::CliError> {
    let db = store::connect(&config.database_url).await?;
    store::migrate(&db).await?;
    crate::auth::password::warm_up().await;

    let sessions = SqliteStore::new(db.clone());
    tokio::spawn(delete_expired_sessions(sessions.clone()));

    let chat = Arc::new(Chat::new(db.clone(), config.send_rate));
    let live = Realtime {
        sessions: sessions.clone(),
        chat: chat.clone(),
        presence: Arc::new(Presence::new(config.presence_grace)),
        db: db.clone(),
        allowed_origins: config.allowed_origins.clone(),
    };
    let (socket_layer, io) = realtime::layer(live.clone());
    let state = AppState {
        leptos: leptos_options(&config),
        accounts: Arc::new(Accounts::new(
            db.clone(),
            config.login_limits,
            Some(io.clone()),
        )),
        io,
        chat,
        realtime: live,
        cookies: CookiePolicy {
            secure: config.secure_cookies,
        },
        db,
    };
    let app = router(state, sessions, socket_layer, &config);

    let listener = TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    // Chat frames are small and must leave at once: with Nagle's algorithm on, a second
    // small frame (the echo after an ack) waits for the peer's delayed ACK, up to 40 ms.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    // Printed on stdout (logs go to stderr): `make run` and the tests read it.
    println!("Haven is listening on http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

/// The whole application as one router.
pub fn router(
    state: AppState,
    sessions: SqliteStore,
    socket_layer: SocketIoLayer,
    config: &Config,
) -> Router {
    let backend: SharedBackend = Arc::new(FormBackend {
        accounts: state.accounts.clone(),
        secure_cookies: config.secure_cookies,
    });
    let chat_backend: SharedChatBackend = Arc::new(FormChat {
        chat: state.chat.clone(),
        io: state.io.clone(),
        realtime: state.realtime.clone(),
    });
    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(config.session_idle.as_secs()).unwrap_or(i64::MAX),
        )))
        // Every request of a signed-in user pushes the expiry forward ("inactivity").
        .with_always_save(true);

    let leptos_options = state.leptos.clone();
    // Pages, server functions and the account API need the session; static files don't.
    let with_session = Router::new()
        .nest("/api/auth", crate::auth::http::routes())
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            move || {
                provide_context(backend.clone());
                provide_context(chat_backend.clone());
            },
            move || shell(leptos_options.clone()),
        )
        .layer(session_layer);

    Router::new()
        .route("/healthz", get(healthz))
        .merge(with_session)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(socket_layer)
        .layer(axum::middleware::map_request(realtime::detach_request_head))
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
        .build()
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(db): State<Db>) -> (StatusCode, &'static str) {
    match store::ping(&db).await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

async fn delete_expired_sessions(sessions: SqliteStore) {
    use tower_sessions::ExpiredDeletion;
    if let Err(e) = sessions
        .continuously_delete_expired(tokio::time::Duration::from_secs(3600))
        .await
    {
        tracing::error!(error = %e, "expired-session cleanup stopped");
    }
}

async fn shutdown_signal() {
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
