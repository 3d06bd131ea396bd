//! Web Push on the wire: what the settings page needs to offer notifications on a device,
//! the subscription it hands the server, and what a push carries (encrypted end to end;
//! the push service relays it unread).

use serde::{Deserialize, Serialize};

/// What a push on a device says: the device's notification setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PushWords {
    /// "New message in Haven": no name, no text (the default).
    #[default]
    Private,
    /// "New message from <name> — Haven" (a group: its name). Never the text.
    Names,
}

impl PushWords {
    /// The stored (and form) value.
    pub fn as_str(self) -> &'static str {
        match self {
            PushWords::Private => "private",
            PushWords::Names => "names",
        }
    }

    /// Reads a stored or submitted value.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "private" => Some(PushWords::Private),
            "names" => Some(PushWords::Names),
            _ => None,
        }
    }

    /// A push's title for a message from `name` (a person, or a group's name).
    pub fn title(self, name: &str) -> String {
        match self {
            PushWords::Private => "New message in Haven".to_owned(),
            PushWords::Names => format!("New message from {name} — Haven"),
        }
    }
}

/// Whether this session may turn on notifications, and the key the browser subscribes with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushOffer {
    /// `false` on a shared-computer sign-in: nothing is offered there.
    pub offered: bool,
    /// The service's VAPID public key (uncompressed P-256 point, base64url): the browser's
    /// `applicationServerKey`.
    pub public_key: String,
    /// A psychiatrist may choose pushes outside their office hours.
    pub psychiatrist: bool,
}

/// What a push carries, as the service worker reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushPayload {
    /// The notification's title: by default no name and no text.
    pub title: String,
    /// Where a tap goes: the conversation's page.
    pub url: String,
    /// One notification per conversation: a newer one replaces it.
    pub tag: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_names_nobody_unless_the_device_chose_names_and_never_quotes() {
        assert_eq!(PushWords::default().title("Dr. X"), "New message in Haven");
        assert_eq!(
            PushWords::Names.title("Dr. X"),
            "New message from Dr. X — Haven"
        );
        assert_eq!(PushWords::parse("names"), Some(PushWords::Names));
        assert_eq!(PushWords::parse("loud"), None);
        let offer = PushOffer {
            offered: true,
            public_key: "BK".into(),
            psychiatrist: false,
        };
        assert_eq!(
            serde_json::to_value(&offer).unwrap(),
            serde_json::json!({"offered": true, "publicKey": "BK", "psychiatrist": false})
        );
    }
}
