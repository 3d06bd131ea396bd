//! The JSON account API (`/api/auth/*`) for tools, tests and the benchmark. Same service
//! calls as the HTML forms; errors mapped to HTTP statuses here, once.

use std::sync::Arc;

use app::error::AuthError;
use app::error::ErrorCode;
use app::protocol::{PublicUser, Role};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::recovery_code::RecoveryCode;
use super::service::{Accounts, Recovery};
use super::session;
use crate::security::client_addr::ClientAddr;
use crate::state::AppState;

/// `/api/auth/login`, `/register`, `/recover`, `/logout`, `/me`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/register", post(register))
        .route("/recover", post(recover))
        .route("/logout", post(logout))
        .route("/me", get(me))
}

/// An API failure: an account error, or a request that could not be read.
#[derive(Debug)]
pub enum ApiError {
    Auth(AuthError),
    BadRequest(String),
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        ApiError::Auth(err)
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                message.clone(),
            ),
            ApiError::Auth(err) => (
                StatusCode::from_u16(err.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                err.code(),
                err.to_string(),
            ),
        };
        let fields = match &self {
            ApiError::Auth(AuthError::Invalid(fields)) => json!(fields),
            _ => json!([]),
        };
        let mut response = (
            status,
            Json(json!({ "error": { "code": code, "message": message, "fields": fields } })),
        )
            .into_response();
        if let ApiError::Auth(AuthError::RateLimited { retry_after_secs }) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// `{user}`: the answer of login and me; register and recover add `recoveryCode`.
fn user_response(
    user: PublicUser,
    role_cookie: Option<String>,
    recovery_code: Option<RecoveryCode>,
) -> Response {
    let body = match recovery_code {
        Some(code) => json!({ "user": user, "recoveryCode": code.to_string() }),
        None => json!({ "user": user }),
    };
    let mut response = Json(body).into_response();
    if let Some(value) = role_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
    /// When given, the account must have this role (as on the role's sign-in page).
    role: Option<Role>,
    /// "This is a shared computer": the session ends with the browser or when idle.
    #[serde(default)]
    shared: bool,
}

async fn login(
    State(accounts): State<Arc<Accounts>>,
    State(cookies): State<crate::state::CookiePolicy>,
    Extension(client): Extension<ClientAddr>,
    session: Session,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let credentials = (req.username.as_str(), req.password.as_str());
    let user = accounts
        .sign_in(&session, client.0, req.role, credentials, req.shared)
        .await?;
    // A shared computer keeps no trace that this person uses Haven, not even the role.
    let hint = (!req.shared).then(|| session::role_hint_set_cookie(user.role, cookies.secure));
    Ok(user_response(user, hint, None))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterRequest {
    username: String,
    display_name: String,
    password: String,
}

async fn register(
    State(accounts): State<Arc<Accounts>>,
    State(cookies): State<crate::state::CookiePolicy>,
    Extension(client): Extension<ClientAddr>,
    session: Session,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let (user, code) = accounts
        .sign_up(
            &session,
            client.0,
            &req.username,
            &req.display_name,
            &req.password,
        )
        .await?;
    let role = user.role;
    Ok(user_response(
        user,
        Some(session::role_hint_set_cookie(role, cookies.secure)),
        Some(code),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecoverRequest {
    username: String,
    recovery_code: String,
    new_password: String,
    #[serde(default)]
    shared: bool,
}

async fn recover(
    State(accounts): State<Arc<Accounts>>,
    State(cookies): State<crate::state::CookiePolicy>,
    Extension(client): Extension<ClientAddr>,
    session: Session,
    body: Result<Json<RecoverRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let form = Recovery {
        username: &req.username,
        code: &req.recovery_code,
        new_password: &req.new_password,
        shared: req.shared,
    };
    let (user, code) = accounts.recover(&session, client.0, form).await?;
    let hint = (!req.shared).then(|| session::role_hint_set_cookie(user.role, cookies.secure));
    Ok(user_response(user, hint, Some(code)))
}

async fn logout(
    State(accounts): State<Arc<Accounts>>,
    session: Session,
) -> Result<StatusCode, ApiError> {
    accounts.sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(State(accounts): State<Arc<Accounts>>, session: Session) -> Result<Response, ApiError> {
    match accounts.signed_in_user(&session).await? {
        Some(user) => Ok(user_response(user, None, None)),
        None => Err(AuthError::Unauthenticated.into()),
    }
}
