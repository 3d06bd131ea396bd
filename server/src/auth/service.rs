//! Account logic: sign in, sign up, sign out, who is signed in, and creating accounts from
//! the CLI. One code path for the HTML forms, the JSON API and the CLI.

use std::net::IpAddr;

use app::error::{AuthError, ErrorCode, Field, FieldError};
use app::protocol::{PublicUser, Role, Timestamp, UserId};
use app::validation::{
    check_bio, check_display_name, check_password, check_username, normalize_username,
};
use tower_sessions::Session;

use super::password;
use super::recovery_code::RecoveryCode;
use super::session::{self, SessionLifetime, SessionUser};
use crate::chat::{ChatEvent, SharedPublisher};
use crate::coordination::SharedCoordinator;
use crate::store::{users, Db, StoreError};

/// The account service, shared by all requests.
pub struct Accounts {
    db: Db,
    /// The sign-in and registration throttles, on one node or across several.
    throttle: SharedCoordinator,
    /// Where a session's end is published, so that its connections close.
    publisher: SharedPublisher,
    /// The shorter inactivity limits (shared computers, psychiatrists); none in the CLI.
    lifetime: Option<SessionLifetime>,
}

/// A new account as typed by a person.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub bio: &'a str,
}

/// What the "forgot your password" form carries.
#[derive(Debug, Clone)]
pub struct Recovery<'a> {
    pub username: &'a str,
    /// As typed: [`RecoveryCode::parse`] forgives case, spaces and dashes.
    pub code: &'a str,
    pub new_password: &'a str,
    /// "This is a shared computer", as at sign-in.
    pub shared: bool,
}

/// One field's error.
fn invalid(field: Field, message: impl Into<String>) -> AuthError {
    AuthError::Invalid(vec![FieldError {
        field,
        message: message.into(),
    }])
}

/// Binds the session to a user who just proved who they are.
async fn start_session(
    session: &Session,
    user: SessionUser,
    shared: bool,
    idle_limit: Option<std::time::Duration>,
) -> Result<(), AuthError> {
    session::start(session, user, shared, idle_limit)
        .await
        .map_err(internal)
}

/// Every field error of a new account, or none.
fn check_account(account: &NewAccount<'_>) -> Result<(), AuthError> {
    let errors: Vec<FieldError> = [
        (Field::Username, check_username(account.username)),
        (Field::DisplayName, check_display_name(account.display_name)),
        (Field::Password, check_password(account.password)),
        (Field::Bio, check_bio(account.bio)),
    ]
    .into_iter()
    .filter_map(|(field, result)| result.err().map(|message| FieldError { field, message }))
    .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AuthError::Invalid(errors))
    }
}

/// A throttle's refusal, logged by code (never with the username).
fn rate_limited(what: &'static str, wait: std::time::Duration) -> AuthError {
    tracing::info!(code = %ErrorCode::RateLimited, what, "throttled");
    AuthError::RateLimited {
        retry_after_secs: wait.as_secs().max(1),
    }
}

/// Logs the cause with its own causes (never a password or a message) and answers the
/// generic error.
fn internal(err: impl std::error::Error + 'static) -> AuthError {
    tracing::error!(error = %crate::report::chain(&err), "account operation failed");
    AuthError::Internal
}

impl Accounts {
    /// The service over `db`, with sign-in attempts and registrations limited by
    /// `coordinator`.
    pub fn new(db: Db, coordinator: SharedCoordinator, publisher: SharedPublisher) -> Self {
        Self {
            db,
            throttle: coordinator,
            publisher,
            lifetime: None,
        }
    }

    /// Sessions started from now on get the shorter inactivity limits of `lifetime`.
    pub fn with_lifetime(mut self, lifetime: SessionLifetime) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// The inactivity limit of a new session, if shorter than the default.
    fn idle_limit(&self, role: Role, shared: bool) -> Option<std::time::Duration> {
        self.lifetime?.idle_limit_for(role, shared)
    }

    /// Checks credentials and starts a fresh session. With `expected`, the account must have
    /// that role (a role's own sign-in page); the role is told only after the password matched.
    /// `shared`: "This is a shared computer" (a browser-session cookie, a short idle limit).
    pub async fn sign_in(
        &self,
        session: &Session,
        address: IpAddr,
        expected: Option<Role>,
        credentials: (&str, &str),
        shared: bool,
    ) -> Result<PublicUser, AuthError> {
        let (username, password) = credentials;
        let username = normalize_username(username);
        // No account has a name of another shape: refused before the throttle (Redis) and
        // the database (PostgreSQL's `text` cannot even hold a NUL) see it. The shape is
        // public, so answering at once tells nothing.
        if check_username(&username).is_err() {
            tracing::info!(code = %ErrorCode::InvalidCredentials, "sign-in refused");
            return Err(AuthError::InvalidCredentials);
        }
        // Reserved before the hash: parallel attempts are counted before any is judged.
        let attempt = self
            .throttle
            .reserve_sign_in(&username, address)
            .await
            .map_err(|wait| rate_limited("sign-in", wait))?;
        // An absurdly long password cannot match and is not worth hashing.
        let record = if password.len() <= 4 * app::validation::PASSWORD_MAX {
            users::find_by_username(&self.db, &username)
                .await
                .map_err(internal)?
        } else {
            None
        };
        let stored = record.as_ref().map(|r| r.password_hash.clone());
        let matches = password::verify(password.to_owned(), stored)
            .await
            .map_err(internal)?;
        let Some(user) = record.filter(|_| matches) else {
            // The reservation stays counted as a failure.
            tracing::info!(code = %ErrorCode::InvalidCredentials, "sign-in refused");
            return Err(AuthError::InvalidCredentials);
        };
        self.throttle.sign_in_succeeded(attempt).await;
        if let Some(expected) = expected.filter(|role| *role != user.role) {
            tracing::info!(code = %ErrorCode::WrongRole, user = %user.id, "sign-in on the other role's page");
            return Err(AuthError::WrongRole {
                expected,
                actual: user.role,
            });
        }
        let limit = self.idle_limit(user.role, shared);
        let who = SessionUser {
            id: user.id,
            role: user.role,
        };
        start_session(session, who, shared, limit).await?;
        tracing::info!(user = %user.id, role = %user.role, shared, "signed in");
        Ok(user.public())
    }

    /// Creates a student account and signs it in; answers it with its recovery code, to be
    /// shown once. Registrations from one address are limited (each costs two hashes); a
    /// form with mistakes does not count.
    pub async fn sign_up(
        &self,
        session: &Session,
        address: IpAddr,
        username: &str,
        display_name: &str,
        password: &str,
    ) -> Result<(PublicUser, RecoveryCode), AuthError> {
        let account = NewAccount {
            username,
            display_name,
            password,
            role: Role::Student,
            bio: "",
        };
        check_account(&account)?;
        self.throttle
            .reserve_registration(address)
            .await
            .map_err(|wait| rate_limited("registration", wait))?;
        let code = RecoveryCode::generate();
        let recovery_hash = password::hash(code.canonical().to_owned())
            .await
            .map_err(internal)?;
        let user = self
            .store_account(account, Some(recovery_hash.as_str()))
            .await?;
        let who = SessionUser {
            id: user.id,
            role: user.role,
        };
        start_session(session, who, false, self.idle_limit(user.role, false)).await?;
        tracing::info!(user = %user.id, "student registered");
        Ok((user, code))
    }

    /// A forgotten password: with the username and the account's recovery code, sets a new
    /// password, ends every session of the account (whoever else was signed in with the
    /// old one is out), signs this browser in and answers the next code, since each code
    /// works once. Throttled with sign-in, per username and per address.
    pub async fn recover(
        &self,
        session: &Session,
        address: IpAddr,
        form: Recovery<'_>,
    ) -> Result<(PublicUser, RecoveryCode), AuthError> {
        // Mistakes in the form are told at their fields and do not count as attempts.
        check_password(form.new_password).map_err(|m| invalid(Field::Password, m))?;
        let code = RecoveryCode::parse(form.code).ok_or_else(|| {
            invalid(
                Field::RecoveryCode,
                "A recovery code has 20 letters and digits, like 7K3M-Q9XD-2F8H-WN4T-B6CJ.",
            )
        })?;
        let username = normalize_username(form.username);
        if check_username(&username).is_err() {
            tracing::info!(code = %ErrorCode::InvalidRecoveryCode, "recovery refused");
            return Err(AuthError::InvalidRecoveryCode);
        }
        let attempt = self
            .throttle
            .reserve_sign_in(&username, address)
            .await
            .map_err(|wait| rate_limited("recovery", wait))?;
        // Only students have codes; an unknown name costs the same hash as a wrong code.
        let record = users::find_by_username(&self.db, &username)
            .await
            .map_err(internal)?
            .filter(|r| r.role == Role::Student);
        let stored = record.as_ref().and_then(|r| r.recovery_hash.clone());
        let matches = password::verify(code.canonical().to_owned(), stored.clone())
            .await
            .map_err(internal)?;
        let (Some(user), Some(used), true) = (record, stored, matches) else {
            tracing::info!(code = %ErrorCode::InvalidRecoveryCode, "recovery refused");
            return Err(AuthError::InvalidRecoveryCode);
        };
        self.throttle.sign_in_succeeded(attempt).await;
        let next = RecoveryCode::generate();
        let password_hash = password::hash(form.new_password.to_owned())
            .await
            .map_err(internal)?;
        let next_hash = password::hash(next.canonical().to_owned())
            .await
            .map_err(internal)?;
        let spent = users::recover(&self.db, user.id, &used, &password_hash, &next_hash)
            .await
            .map_err(internal)?;
        if !spent {
            // Another request spent the same code a moment ago.
            tracing::info!(code = %ErrorCode::InvalidRecoveryCode, user = %user.id, "recovery code already used");
            return Err(AuthError::InvalidRecoveryCode);
        }
        let ended = self.end_every_session(user.id).await?;
        let who = SessionUser {
            id: user.id,
            role: user.role,
        };
        let limit = self.idle_limit(user.role, form.shared);
        start_session(session, who, form.shared, limit).await?;
        tracing::info!(user = %user.id, ended, "sign-in reset with a recovery code");
        Ok((user.public(), next))
    }

    /// Replaces the signed-in student's recovery code (the old one stops working) once
    /// they confirmed it with their password; answers the new code, to be shown once.
    pub async fn new_recovery_code(
        &self,
        session: &Session,
        address: IpAddr,
        password: &str,
    ) -> Result<RecoveryCode, AuthError> {
        let user = self
            .confirm_student(session, address, password, "new recovery code")
            .await?;
        let code = RecoveryCode::generate();
        let hash = password::hash(code.canonical().to_owned())
            .await
            .map_err(internal)?;
        users::set_recovery_hash(&self.db, user, &hash)
            .await
            .map_err(internal)?;
        tracing::info!(user = %user, "new recovery code");
        Ok(code)
    }

    /// The signed-in student, once they proved it again with their password (for what a
    /// session left open on a shared computer must not allow). Attempts count against the
    /// sign-in throttle, so such a session cannot be used to guess the password.
    async fn confirm_student(
        &self,
        session: &Session,
        address: IpAddr,
        password: &str,
        what: &'static str,
    ) -> Result<UserId, AuthError> {
        let user = session::current(session)
            .await
            .map_err(internal)?
            .ok_or(AuthError::Unauthenticated)?;
        if user.role != Role::Student {
            tracing::info!(code = %ErrorCode::Forbidden, user = %user.id, what, "refused");
            return Err(AuthError::NotAllowed);
        }
        let record = users::find_by_id(&self.db, user.id)
            .await
            .map_err(internal)?
            .filter(|r| !r.deleted)
            .ok_or(AuthError::Unauthenticated)?;
        let attempt = self
            .throttle
            .reserve_sign_in(&record.username, address)
            .await
            .map_err(|wait| rate_limited(what, wait))?;
        let matches = password::verify(password.to_owned(), Some(record.password_hash))
            .await
            .map_err(internal)?;
        if !matches {
            tracing::info!(code = %ErrorCode::InvalidCredentials, user = %user.id, what, "refused");
            return Err(invalid(Field::Password, "That is not your password."));
        }
        self.throttle.sign_in_succeeded(attempt).await;
        Ok(user.id)
    }

    /// Ends the session and disconnects its sockets; answers the role it had, if any.
    pub async fn sign_out(&self, session: &Session) -> Result<Option<Role>, AuthError> {
        let user = session::current(session).await.map_err(internal)?;
        let room = session::socket_room(session).await.map_err(internal)?;
        // This device's reminders stop with the session (docs/privacy.md).
        if let Some(id) = session.id() {
            crate::store::push::forget_sessions(&self.db, &[id.to_string()])
                .await
                .map_err(internal)?;
        }
        session::end(session).await.map_err(internal)?;
        if let Some(session) = room {
            self.publisher
                .publish(ChatEvent::SessionEnded { session })
                .await;
        }
        Ok(user.map(|u| u.role))
    }

    /// The user this session belongs to, if it is valid and the account still exists.
    pub async fn signed_in_user(&self, session: &Session) -> Result<Option<PublicUser>, AuthError> {
        let Some(user) = session::current(session).await.map_err(internal)? else {
            return Ok(None);
        };
        let record = users::find_by_id(&self.db, user.id)
            .await
            .map_err(internal)?;
        Ok(record.filter(|r| !r.deleted).map(|r| r.public()))
    }

    /// Deletes the signed-in student's account once they confirmed it with their password
    /// (docs/privacy.md): every session of it ends and its connections close, then the
    /// account is erased.
    pub async fn delete_account(
        &self,
        session: &Session,
        address: IpAddr,
        password: &str,
    ) -> Result<(), AuthError> {
        let user = self
            .confirm_student(session, address, password, "account deletion")
            .await?;
        // Sessions first: if erasing failed after, the person is signed out and can retry.
        self.end_every_session(user).await?;
        session::end(session).await.map_err(internal)?;
        users::erase(&self.db, user, Timestamp::now())
            .await
            .map_err(internal)?;
        tracing::info!(user = %user, "account deleted");
        Ok(())
    }

    /// Ends every session of `user` and closes their connections (on this node at once;
    /// elsewhere, such as when called from the CLI, at the next session check). Answers how
    /// many sessions ended.
    async fn end_every_session(&self, user: UserId) -> Result<usize, AuthError> {
        let sessions = session::of_user(&self.db, user).await.map_err(internal)?;
        let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
        // No device of theirs is reminded of anything any more.
        crate::store::push::forget_user(&self.db, user)
            .await
            .map_err(internal)?;
        crate::store::sessions::delete(&self.db, &ids)
            .await
            .map_err(internal)?;
        for room in sessions.into_iter().filter_map(|s| s.socket_room) {
            self.publisher
                .publish(ChatEvent::SessionEnded { session: room })
                .await;
        }
        Ok(ids.len())
    }

    /// An administrator sets a new password for an account (`haven user reset-password`)
    /// and ends every session of it. Answers how many sessions ended.
    pub async fn reset_password(&self, username: &str, password: &str) -> Result<usize, AuthError> {
        check_password(password).map_err(|m| invalid(Field::Password, m))?;
        let user = users::find_by_username(&self.db, &normalize_username(username))
            .await
            .map_err(internal)?
            .ok_or_else(|| invalid(Field::Username, "No account has this username."))?;
        let hash = password::hash(password.to_owned())
            .await
            .map_err(internal)?;
        users::set_password_hash(&self.db, user.id, &hash)
            .await
            .map_err(internal)?;
        let ended = self.end_every_session(user.id).await?;
        tracing::info!(user = %user.id, ended, "sign-in reset by an administrator");
        Ok(ended)
    }

    /// Validates and stores a new account of any role (registration and `haven user add`).
    pub async fn create(&self, account: NewAccount<'_>) -> Result<PublicUser, AuthError> {
        check_account(&account)?;
        self.store_account(account, None).await
    }

    /// Hashes the password and stores an account that passed [`check_account`], with the
    /// hash of its recovery code if it has one.
    async fn store_account(
        &self,
        account: NewAccount<'_>,
        recovery_hash: Option<&str>,
    ) -> Result<PublicUser, AuthError> {
        let username = normalize_username(account.username);
        let display_name = account.display_name.trim();
        let password_hash = password::hash(account.password.to_owned())
            .await
            .map_err(internal)?;
        let new = users::NewUser {
            username: &username,
            display_name,
            role: account.role,
            bio: account.bio.trim(),
            password_hash: &password_hash,
            recovery_hash,
        };
        let id = users::insert(&self.db, &new).await.map_err(|e| match e {
            StoreError::Conflict => invalid(Field::Username, "That username is taken."),
            other => internal(other),
        })?;
        Ok(PublicUser {
            id,
            username,
            display_name: display_name.to_owned(),
            role: account.role,
        })
    }
}
