//! Messages still *sending*, kept in the browser's `localStorage` per user, so that a tab
//! closed or reloaded before the ack loses nothing: the next tab of that user sends them
//! again with the same `clientId` (the server stores a `clientId` once, so never twice).
//! An entry leaves on the server's answer, and every entry of the user on sign-out, so
//! another person signing in on the same browser neither sees nor sends them. On a shared
//! computer the outbox lives in `sessionStorage` instead, gone with the tab.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::protocol::{ConversationId, UserId};

/// One message waiting for its ack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub conversation_id: ConversationId,
    pub client_id: String,
    pub body: String,
}

/// The first pause before offering again a message the server answered `busy`.
pub const FIRST_PAUSE_AFTER_BUSY: Duration = Duration::from_millis(500);
/// The longest pause between offers while the server stays busy.
pub const LONGEST_PAUSE_AFTER_BUSY: Duration = Duration::from_secs(15);

/// How long to wait before offering again a message after its `answers`-th `busy` (0 for
/// the first), given the pause the server `asked` for and `jitter` in [0, 1): doubling from
/// [`FIRST_PAUSE_AFTER_BUSY`] up to [`LONGEST_PAUSE_AFTER_BUSY`], or what the server asked
/// if that is longer (it knows how far past its limit it is; at most
/// [`LONGEST_PAUSE_ASKED`]), spread by ±50% so that the many tabs a burst refused do not all
/// come back in the same instant.
pub fn pause_after_busy(answers: u32, asked: Option<Duration>, jitter: f64) -> Duration {
    let doubled = FIRST_PAUSE_AFTER_BUSY
        .saturating_mul(1 << answers.min(16))
        .min(LONGEST_PAUSE_AFTER_BUSY);
    let asked = asked.unwrap_or_default().min(LONGEST_PAUSE_ASKED);
    doubled.max(asked).mul_f64(0.5 + jitter.clamp(0.0, 1.0))
}

/// The longest pause a server's `retryAfterMs` is followed to (a wrong or hostile value
/// must not leave a message unsent for hours).
pub const LONGEST_PAUSE_ASKED: Duration = Duration::from_secs(60);

/// The storage key of `user`'s outbox.
pub fn key(user: UserId) -> String {
    format!("haven.outbox.{user}")
}

#[cfg(any(feature = "hydrate", test))]
/// `list` with `pending` added, unless its `clientId` is there already.
fn with(mut list: Vec<Pending>, pending: Pending) -> Vec<Pending> {
    if !list.iter().any(|p| p.client_id == pending.client_id) {
        list.push(pending);
    }
    list
}

#[cfg(any(feature = "hydrate", test))]
/// `list` without the message `client_id`.
fn without(mut list: Vec<Pending>, client_id: &str) -> Vec<Pending> {
    list.retain(|p| p.client_id != client_id);
    list
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;

    thread_local! {
        static TAB_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// A shared computer's session: the outbox lives in `sessionStorage`, gone with the tab
    /// (a reload still resends; a closed tab's text is not left for the next person).
    pub fn keep_in_tab_only() {
        TAB_ONLY.with(|flag| flag.set(true));
    }

    fn storage() -> Option<web_sys::Storage> {
        let window = leptos::prelude::window();
        if TAB_ONLY.with(std::cell::Cell::get) {
            window.session_storage().ok().flatten()
        } else {
            window.local_storage().ok().flatten()
        }
    }

    /// What `user` has waiting in this browser (unreadable entries are dropped).
    pub fn load(user: UserId) -> Vec<Pending> {
        storage()
            .and_then(|s| s.get_item(&key(user)).ok().flatten())
            .and_then(|text| crate::protocol::json::from_text(&text).ok())
            .unwrap_or_default()
    }

    fn store(user: UserId, list: &[Pending]) {
        let Some(storage) = storage() else { return };
        if list.is_empty() {
            let _ = storage.remove_item(&key(user));
        } else if let Ok(text) = serde_json::to_string(list) {
            let _ = storage.set_item(&key(user), &text);
        }
    }

    /// Keeps a message until its answer comes.
    pub fn put(user: UserId, pending: Pending) {
        store(user, &with(load(user), pending));
    }

    /// The server answered for `client_id` (stored, or refused for good).
    pub fn remove(user: UserId, client_id: &str) {
        store(user, &without(load(user), client_id));
    }

    /// Sign-out: nothing of `user` stays in this browser.
    pub fn clear(user: UserId) {
        store(user, &[]);
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{clear, keep_in_tab_only, load, put, remove};

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(client_id: &str) -> Pending {
        Pending {
            conversation_id: ConversationId(7),
            client_id: client_id.to_owned(),
            body: "synthetic".to_owned(),
        }
    }

    #[test]
    fn a_client_id_is_kept_once_and_leaves_alone() {
        let list = with(with(Vec::new(), pending("a")), pending("a"));
        assert_eq!(list.len(), 1);
        let list = with(list, pending("b"));
        assert_eq!(without(list, "a"), vec![pending("b")]);
    }

    #[test]
    fn busy_answers_space_the_offers_out_up_to_a_bound() {
        let middle = |n| pause_after_busy(n, None, 0.5);
        assert_eq!(middle(0), Duration::from_millis(500));
        assert_eq!(middle(1), Duration::from_secs(1));
        assert_eq!(middle(3), Duration::from_secs(4));
        assert_eq!(middle(10), Duration::from_secs(15));
        assert_eq!(middle(u32::MAX), Duration::from_secs(15));
        // Spread around the middle, never below half or above one and a half times it.
        assert_eq!(pause_after_busy(0, None, 0.0), Duration::from_millis(250));
        assert_eq!(pause_after_busy(0, None, 0.999_999).as_millis(), 749);
        assert_eq!(pause_after_busy(0, None, 7.0), Duration::from_millis(750));
    }

    #[test]
    fn a_longer_pause_the_server_asks_for_is_followed_up_to_a_bound() {
        let asked = |ms| pause_after_busy(0, Some(Duration::from_millis(ms)), 0.5);
        assert_eq!(asked(10_000), Duration::from_secs(10));
        // Shorter than the client's own: the client's.
        assert_eq!(asked(100), Duration::from_millis(500));
        assert_eq!(
            pause_after_busy(5, Some(Duration::from_secs(1)), 0.5),
            Duration::from_secs(15)
        );
        // A hostile hint is cut to a minute.
        assert_eq!(asked(u64::MAX), Duration::from_secs(60));
    }

    #[test]
    fn each_user_has_their_own_key() {
        assert_ne!(key(UserId(1)), key(UserId(2)));
    }
}
