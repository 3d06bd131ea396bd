//! Connections counted per user in this process's memory: many tabs and devices count
//! once, and a user whose last connection closed stays counted until their grace period
//! is checked.

use std::collections::HashMap;
use std::sync::Mutex;

use app::protocol::{Role, UserId};

#[derive(Debug)]
struct Entry {
    role: Role,
    sockets: u32,
    /// Bumped at every connect, so a pending offline check can tell it is stale.
    epoch: u64,
}

/// Connection counts per user (this node).
#[derive(Debug, Default)]
pub struct Counts {
    users: Mutex<HashMap<UserId, Entry>>,
}

impl Counts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, Entry>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a new connection; `true` if the user just came online (was not online or in
    /// grace before).
    pub fn connect(&self, user: UserId, role: Role) -> bool {
        let mut users = self.lock();
        match users.get_mut(&user) {
            Some(entry) => {
                entry.sockets += 1;
                entry.epoch += 1;
                false
            }
            None => {
                users.insert(
                    user,
                    Entry {
                        role,
                        sockets: 1,
                        epoch: 0,
                    },
                );
                true
            }
        }
    }

    /// Counts a closed connection; `Some(epoch)` if it was the user's last one: check back
    /// with [`Counts::expire`] after the grace period.
    pub fn disconnect(&self, user: UserId) -> Option<u64> {
        let mut users = self.lock();
        let entry = users.get_mut(&user)?;
        entry.sockets = entry.sockets.saturating_sub(1);
        (entry.sockets == 0).then_some(entry.epoch)
    }

    /// After the grace period: `true` (and the user is now offline) if no connection came
    /// back.
    pub fn expire(&self, user: UserId, epoch: u64) -> bool {
        let mut users = self.lock();
        let gone = users
            .get(&user)
            .is_some_and(|e| e.sockets == 0 && e.epoch == epoch);
        if gone {
            users.remove(&user);
        }
        gone
    }

    /// Whether the user counts as online now (connected, or within the grace period).
    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().contains_key(&user)
    }

    /// Everyone with `role` who counts as online now.
    pub fn online_with_role(&self, role: Role) -> Vec<UserId> {
        self.lock()
            .iter()
            .filter(|(_, entry)| entry.role == role)
            .map(|(user, _)| *user)
            .collect()
    }

    /// Everyone who counts as online now.
    pub fn everyone(&self) -> Vec<UserId> {
        self.lock().keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_count_once_and_grace_absorbs_reloads() {
        let presence = Counts::default();
        let u = UserId(1);
        assert!(presence.connect(u, Role::Student), "first socket: online");
        assert!(!presence.connect(u, Role::Student), "second tab: no change");
        assert_eq!(presence.disconnect(u), None, "one tab left");
        let epoch = presence.disconnect(u).expect("last socket gone");
        assert!(presence.is_online(u), "still online during grace");
        assert!(
            !presence.connect(u, Role::Student),
            "a reload within grace is not a new 'online'"
        );
        assert!(!presence.expire(u, epoch), "the stale check does nothing");
        let epoch = presence.disconnect(u).unwrap();
        assert!(presence.expire(u, epoch));
        assert!(!presence.is_online(u));
    }

    #[test]
    fn online_users_are_listed_by_role() {
        let presence = Counts::default();
        presence.connect(UserId(1), Role::Student);
        presence.connect(UserId(2), Role::Psychiatrist);
        assert_eq!(
            presence.online_with_role(Role::Psychiatrist),
            vec![UserId(2)]
        );
    }
}
