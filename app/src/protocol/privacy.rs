//! The access record and a user's own data, as the settings page shows them.

use serde::{Deserialize, Serialize};

use super::{Role, Timestamp};

/// How a conversation's content was opened (an access record's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    /// The conversation's page (its newest messages).
    Page,
    /// Earlier messages, page by page.
    History,
    /// A live connection, which receives every conversation's new messages and catch-up.
    Socket,
    /// A download of the conversations.
    Export,
    /// A group's leader removed a message from it.
    Moderation,
}

impl AccessKind {
    /// The stored (and JSON) name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::Page => "page",
            AccessKind::History => "history",
            AccessKind::Socket => "socket",
            AccessKind::Export => "export",
            AccessKind::Moderation => "moderation",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Page,
            Self::History,
            Self::Socket,
            Self::Export,
            Self::Moderation,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }

    /// What it means, for a person: "opened the conversation".
    pub fn describe(self) -> &'static str {
        match self {
            AccessKind::Page => "opened the conversation",
            AccessKind::History => "read earlier messages",
            AccessKind::Socket => "connected to receive new messages",
            AccessKind::Export => "downloaded the conversation",
            AccessKind::Moderation => "removed a message",
        }
    }
}

/// One access to a user's conversation by someone else, as their settings page lists it
/// (without the address: that is for administrators, `haven audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    pub at: Timestamp,
    /// The display name of whoever opened it; `None` for an administrator.
    pub who: Option<String>,
    pub role: Option<Role>,
    pub kind: AccessKind,
}

/// What the settings page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSettings {
    pub role: Role,
    /// The newest accesses to a student's conversations by anyone else (empty for a
    /// psychiatrist).
    pub access: Vec<AccessEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_kinds_round_trip_through_their_stored_names() {
        for kind in [
            AccessKind::Page,
            AccessKind::History,
            AccessKind::Socket,
            AccessKind::Export,
        ] {
            assert_eq!(AccessKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AccessKind::parse("peek"), None);
    }
}
