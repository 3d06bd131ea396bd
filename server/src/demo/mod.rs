//! The demo accounts `make run` seeds: synthetic people with a published password. Fine on
//! a laptop, a hole in a real deployment, so `haven serve` with an https public URL refuses
//! to start while any of them can still sign in with that password.

use app::protocol::Role;
use thiserror::Error;

pub mod history;

use crate::auth::password;
use crate::store::{users, Db, StoreError};

/// The password every demo account has (printed by `make run`).
pub const PASSWORD: &str = "haven-demo-password";

/// Username, display name, role, bio.
const ACCOUNTS: &[(&str, &str, Role, &str)] = &[
    (
        "dr.okafor",
        "Dr. Amani Okafor",
        Role::Psychiatrist,
        "Anxiety, stress around exams, sleep.",
    ),
    (
        "dr.lindqvist",
        "Dr. Elin Lindqvist",
        Role::Psychiatrist,
        "Mood, grief, adjusting to university life.",
    ),
    ("river", "River", Role::Student, ""),
    ("sky", "Sky", Role::Student, ""),
];

/// Why demo accounts could not be handled.
#[derive(Debug, Error)]
pub enum DemoError {
    #[error(
        "demo accounts with the published password exist ({}); a public (https) Haven must \
         not have them. Remove them with `haven seed-demo --remove` (it also deletes their \
         conversations), then start again",
        .0.join(", ")
    )]
    Present(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] password::HashError),
}

/// Creates the demo accounts that do not exist yet and prints them.
pub async fn seed(db: &Db) -> Result<(), DemoError> {
    let hash = password::hash(PASSWORD.to_owned()).await?;
    let new: Vec<users::NewUser> = ACCOUNTS
        .iter()
        .map(|(username, display_name, role, bio)| users::NewUser {
            username,
            display_name,
            role: *role,
            bio,
            password_hash: &hash,
            recovery_hash: None,
        })
        .collect();
    let created = users::insert_many_skipping_existing(db, &new).await?;
    println!("Demo accounts ({created} new), password for all: {PASSWORD}");
    for (username, display_name, role, _) in ACCOUNTS {
        println!("  {:<13} {:<14} {display_name}", role.as_str(), username);
    }
    println!("  students sign in at /login/student, psychiatrists at /login/psychiatrist");
    Ok(())
}

/// The demo accounts that exist and still have the published password.
async fn present(db: &Db) -> Result<Vec<users::UserRecord>, DemoError> {
    let mut found = Vec::new();
    for (username, ..) in ACCOUNTS {
        if let Some(user) = users::find_by_username(db, username).await? {
            let stored = Some(user.password_hash.clone());
            if password::verify(PASSWORD.to_owned(), stored).await? {
                found.push(user);
            }
        }
    }
    Ok(found)
}

/// Fails while any demo account can sign in with the published password.
pub async fn refuse_if_present(db: &Db) -> Result<(), DemoError> {
    let found = present(db).await?;
    if found.is_empty() {
        Ok(())
    } else {
        Err(DemoError::Present(
            found.into_iter().map(|u| u.username).collect(),
        ))
    }
}

/// Deletes the demo accounts that still have the published password, with their
/// conversations; answers how many.
pub async fn remove(db: &Db) -> Result<usize, DemoError> {
    let found = present(db).await?;
    for user in &found {
        users::delete_with_conversations(db, user.id).await?;
    }
    Ok(found.len())
}
