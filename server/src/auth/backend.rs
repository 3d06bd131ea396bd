//! The server side of the UI's account server functions: adapts [`Accounts`] to the
//! [`AccountBackend`] port that the `app` crate calls.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use app::backend::{AccountBackend, Recovery, Registration};
use app::error::AuthError;
use app::protocol::{PublicUser, Role, SessionLimits, Viewer};
use async_trait::async_trait;
use http::request::Parts;
use http::HeaderValue;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::recovery_code::RecoveryCode;
use super::service::Accounts;
use super::session;
use crate::security::client_addr::ClientAddr;

/// Logs a session store failure and answers the generic error.
fn session_failed(err: session::SessionError) -> AuthError {
    tracing::error!(error = %err, "session store failed");
    AuthError::Internal
}

/// Keeps a new recovery code in the session until the person says they saved it.
async fn show_recovery_code(req: &Parts, code: &RecoveryCode) -> Result<(), AuthError> {
    session::keep_recovery_code(session_of(req)?, code)
        .await
        .map_err(session_failed)
}

/// [`Accounts`] as seen from server functions.
pub struct FormBackend {
    pub accounts: Arc<Accounts>,
    /// Mark cookies `Secure` (the public URL is https).
    pub secure_cookies: bool,
}

/// The tower-sessions session the session layer put on the request.
fn session_of(req: &Parts) -> Result<&Session, AuthError> {
    req.extensions.get::<Session>().ok_or_else(|| {
        tracing::error!("no session layer in front of the server functions");
        AuthError::Internal
    })
}

/// The client's address (past trusted proxies), for the throttles.
pub fn client_address(req: &Parts) -> IpAddr {
    req.extensions
        .get::<ClientAddr>()
        .map(|addr| addr.0)
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

impl FormBackend {
    fn remember_role(&self, role: Role) {
        let cookie = session::role_hint_set_cookie(role, self.secure_cookies);
        if let (Some(response), Ok(value)) = (
            use_context::<ResponseOptions>(),
            HeaderValue::from_str(&cookie),
        ) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }
}

#[async_trait]
impl AccountBackend for FormBackend {
    async fn login(
        &self,
        req: &Parts,
        role: Role,
        username: &str,
        password: &str,
        shared: bool,
    ) -> Result<PublicUser, AuthError> {
        let user = self
            .accounts
            .sign_in(
                session_of(req)?,
                client_address(req),
                Some(role),
                (username, password),
                shared,
            )
            .await?;
        // A shared computer keeps no trace that this person uses Haven, not even the role.
        if !shared {
            self.remember_role(user.role);
        }
        Ok(user)
    }

    async fn register(&self, req: &Parts, form: Registration) -> Result<PublicUser, AuthError> {
        let (user, code) = self
            .accounts
            .sign_up(
                session_of(req)?,
                client_address(req),
                &form.username,
                &form.display_name,
                &form.password,
            )
            .await?;
        self.remember_role(user.role);
        show_recovery_code(req, &code).await?;
        Ok(user)
    }

    async fn recover(&self, req: &Parts, form: Recovery) -> Result<PublicUser, AuthError> {
        let recovery = super::service::Recovery {
            username: &form.username,
            code: &form.code,
            new_password: &form.new_password,
            shared: form.shared,
        };
        let (user, code) = self
            .accounts
            .recover(session_of(req)?, client_address(req), recovery)
            .await?;
        if !form.shared {
            self.remember_role(user.role);
        }
        show_recovery_code(req, &code).await?;
        Ok(user)
    }

    async fn recovery_code(&self, req: &Parts) -> Result<Option<String>, AuthError> {
        session::recovery_code(session_of(req)?)
            .await
            .map_err(session_failed)
    }

    async fn recovery_code_saved(&self, req: &Parts) -> Result<(), AuthError> {
        session::forget_recovery_code(session_of(req)?)
            .await
            .map_err(session_failed)
    }

    async fn new_recovery_code(&self, req: &Parts, password: &str) -> Result<(), AuthError> {
        let code = self
            .accounts
            .new_recovery_code(session_of(req)?, client_address(req), password)
            .await?;
        show_recovery_code(req, &code).await
    }

    async fn logout(&self, req: &Parts) -> Result<String, AuthError> {
        let role = self.accounts.sign_out(session_of(req)?).await?;
        Ok(match role {
            Some(role) => role.login_path().to_owned(),
            None => session::login_path_for(&req.headers).to_owned(),
        })
    }

    async fn delete_account(&self, req: &Parts, password: &str) -> Result<(), AuthError> {
        self.accounts
            .delete_account(session_of(req)?, client_address(req), password)
            .await
    }

    async fn session_limits(&self, req: &Parts) -> Result<SessionLimits, AuthError> {
        session::limits(session_of(req)?)
            .await
            .map_err(session_failed)
    }

    async fn viewer(&self, req: &Parts) -> Result<Viewer, AuthError> {
        Ok(
            match self.accounts.signed_in_user(session_of(req)?).await? {
                Some(user) => Viewer::SignedIn(user),
                None => Viewer::SignedOut {
                    login_path: session::login_path_for(&req.headers).to_owned(),
                },
            },
        )
    }
}
