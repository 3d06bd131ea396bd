//! Wire types shared by the server and the browser: one definition, so they cannot drift.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of account a user has; decides which pages and peers they may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Student,
    Psychiatrist,
}

impl Role {
    /// The lowercase name used on the wire, in the database and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Psychiatrist => "psychiatrist",
        }
    }

    /// Parses the lowercase wire name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "student" => Some(Role::Student),
            "psychiatrist" => Some(Role::Psychiatrist),
            _ => None,
        }
    }

    /// The sign-in page for this role.
    pub fn login_path(self) -> &'static str {
        match self {
            Role::Student => "/login/student",
            Role::Psychiatrist => "/login/psychiatrist",
        }
    }

    /// "student" / "psychiatrist" with an article, for messages.
    pub fn with_article(self) -> &'static str {
        match self {
            Role::Student => "a student",
            Role::Psychiatrist => "a psychiatrist",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `POST /api/auth/login` answers and what the UI knows about the signed-in user.
/// Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// Who is looking at the page: a signed-in user, or nobody (with the sign-in page to send them to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Viewer {
    SignedIn(PublicUser),
    SignedOut { login_path: String },
}
