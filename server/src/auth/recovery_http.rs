//! `GET /account/recovery-code.txt`: the recovery code waiting to be saved, as a file the
//! student keeps. Only while the code is being shown (see `session::keep_recovery_code`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tower_sessions::Session;

use super::service::Accounts;
use super::session;
use crate::state::AppState;

/// The download route (it needs the session layer).
pub fn routes() -> Router<AppState> {
    Router::new().route("/account/recovery-code.txt", get(recovery_code))
}

async fn recovery_code(
    State(accounts): State<Arc<Accounts>>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    let user = match accounts.signed_in_user(&session).await {
        Ok(Some(user)) => user,
        Ok(None) => return Redirect::to(session::login_path_for(&headers)).into_response(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let code = match session::recovery_code(&session).await {
        Ok(Some(code)) => code,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                "This recovery code was already saved. You can make a new one in Settings.",
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "session read failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let text = format!(
        "Haven recovery code\r\n\r\nUsername:      {}\r\nRecovery code: {code}\r\n\r\n\
         If you forget your password, choose \"Forgot your password?\" on Haven's student\r\n\
         sign-in page and enter this code. It works once; Haven then shows you a new one.\r\n\
         Anyone with your username and this code can set a new password: keep it private.\r\n",
        user.username,
    );
    crate::web::attachment::attachment(
        text.into_bytes(),
        "text/plain; charset=utf-8",
        "haven-recovery-code.txt",
    )
}
