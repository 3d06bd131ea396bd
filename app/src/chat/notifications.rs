//! What a system notification may say. Notifications show on lock screens and shared
//! displays, so by default they name nobody and quote nothing; a person may choose to see
//! the sender's name, or turn them off. The choice is this browser's (like the permission
//! itself) and this user's.

#[cfg(any(feature = "hydrate", test))]
use crate::protocol::UserId;

/// How new messages are announced while the tab is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// No notifications.
    Off,
    /// "New message — Haven": no name, no text.
    #[default]
    Private,
    /// "New message from <name> — Haven": the name, never the text.
    WithNames,
}

impl Mode {
    /// The stored and `<select>` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Private => "private",
            Mode::WithNames => "names",
        }
    }

    /// Reads a stored value; anything else is the private default.
    pub fn parse(text: &str) -> Mode {
        match text {
            "off" => Mode::Off,
            "names" => Mode::WithNames,
            _ => Mode::Private,
        }
    }

    /// The notification's title for a message from `sender`; `None` when off.
    pub fn title(self, sender: Option<&str>) -> Option<String> {
        match (self, sender) {
            (Mode::Off, _) => None,
            (Mode::WithNames, Some(name)) => Some(format!("New message from {name} — Haven")),
            _ => Some("New message — Haven".to_owned()),
        }
    }
}

#[cfg(any(feature = "hydrate", test))]
fn key(user: UserId) -> String {
    format!("haven.notifications.{user}")
}

/// The stored choice of `user` in this browser.
#[cfg(feature = "hydrate")]
pub fn load(user: UserId) -> Mode {
    super::preferences::load(&key(user)).map_or(Mode::default(), |v| Mode::parse(&v))
}

/// Stores the choice of `user` in this browser.
#[cfg(feature = "hydrate")]
pub fn save(user: UserId, mode: Mode) {
    super::preferences::save(&key(user), mode.as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only_when_chosen_and_never_the_text() {
        assert_eq!(
            Mode::default().title(Some("Dr. X")).unwrap(),
            "New message — Haven"
        );
        assert_eq!(
            Mode::WithNames.title(Some("Dr. X")).unwrap(),
            "New message from Dr. X — Haven"
        );
        assert_eq!(Mode::Off.title(Some("Dr. X")), None);
        assert_eq!(Mode::parse("garbage"), Mode::Private);
        assert_eq!(key(UserId(7)), "haven.notifications.7");
    }
}
