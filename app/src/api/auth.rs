//! Sign-in, registration, sign-out and "who am I". Each is a thin shell around the
//! [`AccountBackend`](crate::backend::AccountBackend): take the request, call it, redirect.
//! They work from `<ActionForm>` with and without JavaScript.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos::server_fn::ServerFn;

use crate::error::AuthError;
use crate::protocol::{Role, Viewer};

#[cfg(feature = "ssr")]
fn request() -> Result<(crate::backend::SharedBackend, http::request::Parts), AuthError> {
    let backend = use_context::<crate::backend::SharedBackend>().ok_or(AuthError::Internal)?;
    let parts = use_context::<http::request::Parts>().ok_or(AuthError::Internal)?;
    Ok((backend, parts))
}

/// Where a sign-in may go next: a page of the chat, never another site (`//evil.example`)
/// or anything but a path of this one.
pub fn safe_next(next: &str) -> Option<&str> {
    let inside_chat = next == "/chat" || next.starts_with("/chat/") || next.starts_with("/chat?");
    (inside_chat && !next.contains(['\\', '\r', '\n'])).then_some(next)
}

/// Signs in on a role's page and goes to the chat, or back to the chat page the visitor
/// was sent away from (`next`). `shared` is the "This is a shared computer" box.
#[server(prefix = "/api/form", endpoint = "login")]
pub async fn login(
    role: Role,
    username: String,
    password: String,
    next: Option<String>,
    shared: Option<String>,
) -> Result<(), AuthError> {
    let (backend, req) = request()?;
    let next = next.as_deref().and_then(safe_next);
    let shared = shared.is_some();
    let result = backend
        .login(&req, role, &username, &password, shared)
        .await;
    let page = match next {
        Some(next) => format!("{}?next={}", role.login_path(), urlencoding(next)),
        None => role.login_path().to_owned(),
    };
    super::back_to_page_on_error(<Login as ServerFn>::PATH, &page, result)?;
    leptos_axum::redirect(next.unwrap_or("/chat"));
    Ok(())
}

/// Percent-encodes a query value.
#[cfg(feature = "ssr")]
fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Where a new recovery code is shown.
pub const RECOVERY_CODE_PAGE: &str = "/chat/recovery-code";

/// Creates a student account, signs it in and shows its recovery code.
#[server(prefix = "/api/form", endpoint = "register")]
pub async fn register(
    username: String,
    display_name: String,
    password: String,
) -> Result<(), AuthError> {
    let (backend, req) = request()?;
    let form = crate::backend::Registration {
        username,
        display_name,
        password,
    };
    let result = backend.register(&req, form).await;
    super::back_to_page_on_error(<Register as ServerFn>::PATH, "/register", result)?;
    leptos_axum::redirect(RECOVERY_CODE_PAGE);
    Ok(())
}

/// A forgotten password: sets a new one with the recovery code, signs in (every other
/// session of the account ends) and shows the next code, since each works once.
#[server(prefix = "/api/form", endpoint = "recover")]
pub async fn recover(
    username: String,
    recovery_code: String,
    password: String,
    shared: Option<String>,
) -> Result<(), AuthError> {
    let (backend, req) = request()?;
    let form = crate::backend::Recovery {
        username,
        code: recovery_code,
        new_password: password,
        shared: shared.is_some(),
    };
    let result = backend.recover(&req, form).await;
    super::back_to_page_on_error(<Recover as ServerFn>::PATH, "/recover", result)?;
    leptos_axum::redirect(RECOVERY_CODE_PAGE);
    Ok(())
}

/// The recovery code waiting to be saved, if any.
#[server(prefix = "/api/form", endpoint = "recovery_code")]
pub async fn pending_recovery_code() -> Result<Option<String>, AuthError> {
    let (backend, req) = request()?;
    backend.recovery_code(&req).await
}

/// The student saved their recovery code: it is shown no more; on to the chat.
#[server(prefix = "/api/form", endpoint = "recovery_code_saved")]
pub async fn recovery_code_saved() -> Result<(), AuthError> {
    let (backend, req) = request()?;
    backend.recovery_code_saved(&req).await?;
    leptos_axum::redirect("/chat");
    Ok(())
}

/// Replaces the student's recovery code, confirmed with their password, and shows it.
#[server(prefix = "/api/form", endpoint = "new_recovery_code")]
pub async fn new_recovery_code(password: String) -> Result<(), AuthError> {
    let (backend, req) = request()?;
    let result = backend.new_recovery_code(&req, &password).await;
    super::back_to_page_on_error(
        <NewRecoveryCode as ServerFn>::PATH,
        "/chat/settings",
        result,
    )?;
    leptos_axum::redirect(RECOVERY_CODE_PAGE);
    Ok(())
}

/// Signs out and goes to the sign-in page of the user's role.
#[server(prefix = "/api/form", endpoint = "logout")]
pub async fn logout() -> Result<(), AuthError> {
    let (backend, req) = request()?;
    let next = backend.logout(&req).await?;
    leptos_axum::redirect(&next);
    Ok(())
}

/// Who is signed in.
#[server(prefix = "/api/form", endpoint = "viewer")]
pub async fn current_viewer() -> Result<Viewer, AuthError> {
    let (backend, req) = request()?;
    backend.viewer(&req).await
}

/// The session's inactivity limit, if it has one (shared computer, psychiatrist), and
/// whether it is a shared computer's: the chat warns a minute before the limit, then signs
/// out; on a shared computer it keeps its outbox in the tab only.
#[server(prefix = "/api/form", endpoint = "session_limits")]
pub async fn session_limits() -> Result<crate::protocol::SessionLimits, AuthError> {
    let (backend, req) = request()?;
    backend.session_limits(&req).await
}

/// Keeps the session alive: the chat calls it on the person's activity, which otherwise
/// travels over the socket and would not count (the idle limit is the session's).
#[server(prefix = "/api/form", endpoint = "still_here")]
pub async fn still_here() -> Result<bool, AuthError> {
    let (backend, req) = request()?;
    let viewer = backend.viewer(&req).await?;
    Ok(matches!(viewer, Viewer::SignedIn(_)))
}

/// Deletes the signed-in student's account, confirmed with their password, and goes to the
/// home page signed out (what is erased and what is kept: docs/privacy.md).
#[server(prefix = "/api/form", endpoint = "delete_account")]
pub async fn delete_account(password: String) -> Result<(), AuthError> {
    let (backend, req) = request()?;
    let result = backend.delete_account(&req, &password).await;
    super::back_to_page_on_error(<DeleteAccount as ServerFn>::PATH, "/chat/settings", result)?;
    leptos_axum::redirect("/?account=deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_only_returns_to_chat_pages() {
        for good in ["/chat", "/chat/12", "/chat/settings", "/chat?x=1"] {
            assert_eq!(safe_next(good), Some(good));
        }
        for bad in [
            "//evil.example/chat",
            "https://evil.example",
            "/chatroom",
            "/chat/\\evil",
            "/",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad}");
        }
    }
}
