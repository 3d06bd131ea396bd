//! Who of those this user may see is online, as plain data fed by `presence` events and
//! connect snapshots. No signals here: unit tests drive it directly.

use std::collections::HashMap;

use crate::protocol::{PresenceSnapshot, PresenceUpdate, UserId};

/// The latest status of each person this user may see.
pub type Roster = HashMap<UserId, PresenceUpdate>;

/// Takes in a `presence` event.
pub fn set(roster: &mut Roster, update: PresenceUpdate) {
    roster.insert(update.user_id, update);
}

/// Takes in a `presence:snapshot`: the listed users are online, those listed as gone are
/// offline since the time given, and everyone else known is offline (keeping the
/// `lastSeen` known for them).
pub fn apply_snapshot(roster: &mut Roster, snapshot: &PresenceSnapshot) {
    for (user, status) in roster.iter_mut() {
        let online = snapshot.online.contains(user);
        if status.online && !online {
            status.online = false;
        } else if online {
            status.online = true;
            status.last_seen = None;
        }
    }
    for user in &snapshot.online {
        roster.entry(*user).or_insert_with(|| PresenceUpdate {
            user_id: *user,
            online: true,
            last_seen: None,
        });
    }
    // Those who left while this tab was away: their time, not just "offline".
    for gone in &snapshot.offline {
        roster.insert(gone.user_id, gone.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Timestamp;

    #[test]
    fn a_snapshot_sets_who_is_online_and_when_the_others_left() {
        let mut roster = Roster::new();
        let earlier = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
        for (user, online, last_seen) in [
            (7, true, None),
            (8, false, Some(earlier)),
            (9, false, Some(earlier)),
        ] {
            set(
                &mut roster,
                PresenceUpdate {
                    user_id: UserId(user),
                    online,
                    last_seen,
                },
            );
        }
        // 7 left while this tab was disconnected, 8 came back, 10 is new; 9 is unchanged;
        // the server knows when 7 left.
        let left = Timestamp::parse("2026-11-23T01:56:40.5Z").unwrap();
        apply_snapshot(
            &mut roster,
            &PresenceSnapshot {
                online: vec![UserId(8), UserId(10)],
                offline: vec![PresenceUpdate {
                    user_id: UserId(7),
                    online: false,
                    last_seen: Some(left),
                }],
                at: Timestamp::parse("2026-11-23T02:00:00Z").unwrap(),
            },
        );
        let status = |user| roster.get(&UserId(user)).map(|p| (p.online, p.last_seen));
        assert_eq!(status(7), Some((false, Some(left))), "the time 7 left");
        assert_eq!(status(8), Some((true, None)), "online has no last seen");
        assert_eq!(status(9), Some((false, Some(earlier))));
        assert_eq!(status(10), Some((true, None)));
    }
}
