//! The server side of the settings page's notification server functions: reads the session
//! of the request and hands [`Push`] who is asking.

use std::sync::Arc;

use app::backend::{PushBackend, PushSubscriptionForm};
use app::error::ErrorCode;
use app::protocol::{AckError, PushOffer};
use async_trait::async_trait;
use http::request::Parts;
use tower_sessions::Session;

use super::{Push, PushError, Subscriber};
use crate::auth::session;

/// [`Push`] as seen from server functions.
pub struct FormPush {
    pub push: Arc<Push>,
}

fn refusal(code: ErrorCode, message: &str) -> AckError {
    AckError::new(code, message)
}

/// The session of the request and who it is signed in as.
async fn subscriber(req: &Parts) -> Result<(Subscriber, Session), AckError> {
    let unauthenticated = || refusal(ErrorCode::Unauthenticated, "Please sign in.");
    let session = req
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(unauthenticated)?;
    let read = async {
        let user = session::current(&session).await?;
        let limits = session::limits(&session).await?;
        let signed_in_at = session::signed_in_at(&session).await?;
        Ok::<_, session::SessionError>((user, limits.shared, signed_in_at))
    };
    let (user, shared, signed_in_at) = read.await.map_err(|e| {
        tracing::error!(error = %crate::report::chain(&e), "session read failed");
        refusal(ErrorCode::Internal, "internal error")
    })?;
    let (Some(user), Some(id)) = (user, session.id()) else {
        return Err(unauthenticated());
    };
    let who = Subscriber {
        user: user.id,
        role: user.role,
        session_id: id.to_string(),
        signed_in_at: signed_in_at.unwrap_or_else(session::now_secs),
        shared,
    };
    Ok((who, session))
}

/// Answers a push result, logging a refusal or failure once.
fn answer<T>(
    operation: &str,
    who: &Subscriber,
    result: Result<T, PushError>,
) -> Result<T, AckError> {
    result.map_err(|err| {
        let code = err.code();
        crate::metrics::METRICS.error(code);
        if code == ErrorCode::Internal {
            tracing::error!(operation, user = %who.user, error = %crate::report::chain(&err), "push operation failed");
            refusal(code, "internal error")
        } else {
            tracing::info!(operation, user = %who.user, %code, "push operation refused");
            refusal(code, &err.to_string())
        }
    })
}

#[async_trait]
impl PushBackend for FormPush {
    async fn offer(&self, req: &Parts) -> Result<PushOffer, AckError> {
        let (who, _) = subscriber(req).await?;
        Ok(self.push.offer(who.role, who.shared))
    }

    async fn subscribe(&self, req: &Parts, form: PushSubscriptionForm) -> Result<(), AckError> {
        let (who, _) = subscriber(req).await?;
        answer(
            "push subscribe",
            &who,
            self.push.subscribe(&who, form).await,
        )
    }

    async fn unsubscribe(&self, req: &Parts, endpoint: String) -> Result<(), AckError> {
        let (who, _) = subscriber(req).await?;
        answer(
            "push unsubscribe",
            &who,
            self.push.unsubscribe(&who.session_id, &endpoint).await,
        )
    }
}
