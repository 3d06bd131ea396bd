//! `GET /account/export.json` and `/account/export.html`: the signed-in student's
//! conversations as a download. Reads only; each conversation exported is recorded in the
//! access record first.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use tower_sessions::Session;

use crate::auth::session;
use crate::chat::export::Export;
use crate::chat::{Chat, ChatError};
use crate::security::client_addr::ClientAddr;
use crate::state::AppState;

/// The export routes (they need the session layer).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/export.json", get(json))
        .route("/account/export.html", get(html))
}

async fn json(State(chat): State<Arc<Chat>>, session: Session, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    match export(&chat, &session, &parts).await {
        Ok(export) => match serde_json::to_vec_pretty(&export) {
            Ok(body) => crate::web::attachment::attachment(
                body,
                "application/json",
                "haven-conversations.json",
            ),
            Err(e) => {
                tracing::error!(error = %e, "export could not be encoded");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
        Err(refused) => refused,
    }
}

async fn html(State(chat): State<Arc<Chat>>, session: Session, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    match export(&chat, &session, &parts).await {
        Ok(export) => crate::web::attachment::attachment(
            super::html::render(&export, |at| chat.time_in_words(at)).into_bytes(),
            "text/html; charset=utf-8",
            "haven-conversations.html",
        ),
        Err(refused) => refused,
    }
}

/// The signed-in student's export, or the answer that refuses it: signed out goes to the
/// sign-in page, a psychiatrist is told no.
async fn export(chat: &Chat, session: &Session, request: &Parts) -> Result<Export, Response> {
    let user = match session::current(session).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Err(Redirect::to(session::login_path_for(&request.headers)).into_response())
        }
        Err(e) => {
            tracing::error!(error = %e, "session read failed");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    let address = request.extensions.get::<ClientAddr>().map(|a| a.0);
    chat.export(user.id, user.role, address)
        .await
        .map_err(|err| {
            err.log("export", user.id);
            let status = match err {
                ChatError::NotStudent => StatusCode::FORBIDDEN,
                ChatError::UserNotFound => StatusCode::NOT_FOUND,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (status, err.to_string()).into_response()
        })
}
