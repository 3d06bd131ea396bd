//! Password hashing with argon2id at OWASP's parameters. Hashing takes tens of milliseconds
//! of CPU on purpose, so it always runs on the blocking pool, never on the async reactor.

use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use thiserror::Error;

/// Hashing failed (the blocking task died, or argon2 refused its input).
#[derive(Debug, Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// argon2id, m=19456 KiB, t=2, p=1 (OWASP Password Storage Cheat Sheet).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// A real hash of a random password, verified against when the username is unknown, so an
/// unknown username costs the same time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        hash_blocking(&format!("{random:?}")).expect("hashing a fixed-size password succeeds")
    })
}

/// At most this many hashes run at once. Each takes 19 MiB and a core for tens of
/// milliseconds: unbounded, a burst of sign-ins would grow memory by hundreds of MiB (which
/// the allocator keeps) and starve the chat of CPU.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Runs `work` on the blocking pool once a hashing permit is free.
async fn off_reactor<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
) -> Result<T, HashError> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|e| HashError(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HashError(e.to_string()))?
}

/// Hashes a new password (PHC string with its own salt).
pub async fn hash(password: String) -> Result<String, HashError> {
    off_reactor(move || hash_blocking(&password)).await
}

/// Checks `password` against `stored`; with `None` (unknown user) it does the same work
/// against a decoy hash and answers `false`.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, HashError> {
    off_reactor(move || {
        let known = stored.is_some();
        let phc = stored.as_deref().unwrap_or_else(|| decoy_hash());
        let parsed = PasswordHash::new(phc).map_err(|e| HashError(e.to_string()))?;
        let matches = argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
}

/// Computes the decoy hash ahead of the first login, so that login does not pay for it.
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(decoy_hash).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_and_decoy() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery".into(), Some(stored.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse battery".into(), Some(stored))
            .await
            .unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }
}
