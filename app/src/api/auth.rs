//! Sign-in, registration, sign-out and "who am I". Each is a thin shell around the
//! [`AccountBackend`](crate::backend::AccountBackend): take the request, call it, redirect.
//! They work from `<ActionForm>` with and without JavaScript.

use leptos::prelude::*;

use crate::error::AuthError;
use crate::protocol::{Role, Viewer};

#[cfg(feature = "ssr")]
fn request() -> Result<(crate::backend::SharedBackend, http::request::Parts), AuthError> {
    let backend = use_context::<crate::backend::SharedBackend>().ok_or(AuthError::Internal)?;
    let parts = use_context::<http::request::Parts>().ok_or(AuthError::Internal)?;
    Ok((backend, parts))
}

/// Signs in on a role's page and goes to the chat.
#[server(prefix = "/api/form", endpoint = "login")]
pub async fn login(role: Role, username: String, password: String) -> Result<(), AuthError> {
    let (backend, req) = request()?;
    backend.login(&req, role, &username, &password).await?;
    leptos_axum::redirect("/chat");
    Ok(())
}

/// Creates a student account, signs it in and goes to the chat.
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
    backend.register(&req, form).await?;
    leptos_axum::redirect("/chat");
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
