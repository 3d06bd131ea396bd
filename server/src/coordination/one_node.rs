//! One node: everything in this process's memory. Grace periods are timers on this
//! process's clock, so tests can pause and advance it.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::protocol::{Role, Timestamp, UserId};
use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{
    Buckets, Coordinator, Counts, Limit, PresenceChange, Settings, SignInReservation, Throttle,
};

/// The coordinator of a service that is one process.
pub struct OneNode {
    grace: Duration,
    counts: Arc<Counts>,
    buckets: Buckets,
    throttle: Throttle,
    changes: Mutex<Option<mpsc::UnboundedSender<PresenceChange>>>,
}

impl OneNode {
    /// Nobody online, every limit unused.
    pub fn new(settings: Settings) -> Self {
        Self {
            grace: settings.grace,
            counts: Arc::default(),
            buckets: Buckets::new(settings),
            throttle: Throttle::new(settings.sign_in),
            changes: Mutex::new(None),
        }
    }
}

#[async_trait]
impl Coordinator for OneNode {
    fn start(&self, changes: mpsc::UnboundedSender<PresenceChange>) {
        *self.changes.lock().unwrap_or_else(|p| p.into_inner()) = Some(changes);
    }

    async fn connect(&self, user: UserId, role: Role) -> bool {
        self.counts.connect(user, role)
    }

    fn disconnect(&self, user: UserId, role: Role) {
        let Some(epoch) = self.counts.disconnect(user) else {
            return;
        };
        let changes = self
            .changes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let counts = self.counts.clone();
        // From the moment the connection closed, whenever the timer task first runs.
        let ends = tokio::time::Instant::now() + self.grace;
        tokio::spawn(async move {
            tokio::time::sleep_until(ends).await;
            if counts.expire(user, epoch) {
                if let Some(changes) = changes {
                    let at = Timestamp::now();
                    let _ = changes.send(PresenceChange::Offline { user, role, at });
                }
            }
        });
    }

    async fn online_among(&self, users: &[UserId]) -> Vec<bool> {
        users.iter().map(|u| self.counts.is_online(*u)).collect()
    }

    async fn online_psychiatrists(&self) -> Vec<UserId> {
        self.counts.online_with_role(Role::Psychiatrist)
    }

    async fn shut_down(&self) -> Vec<UserId> {
        // Their grace timers will not run: everyone still counted was last seen now.
        self.counts.everyone()
    }

    async fn take(&self, limit: Limit, user: UserId) -> bool {
        self.buckets.take(limit, user)
    }

    async fn reserve_sign_in(
        &self,
        username: &str,
        address: IpAddr,
    ) -> Result<SignInReservation, Duration> {
        self.throttle.reserve_sign_in(username, address)
    }

    async fn sign_in_succeeded(&self, reservation: SignInReservation) {
        self.throttle.succeeded(&reservation);
    }

    async fn reserve_registration(&self, address: IpAddr) -> Result<(), Duration> {
        self.throttle.reserve_registration(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_user_goes_offline_once_their_grace_runs_out() {
        let grace = Duration::from_secs(5);
        let node = OneNode::new(Settings {
            grace,
            ..Settings::default()
        });
        let (tx, mut changes) = mpsc::unbounded_channel();
        node.start(tx);
        let (user, role) = (UserId(7), Role::Student);
        assert!(node.connect(user, role).await, "first connection: online");
        node.disconnect(user, role);
        tokio::time::sleep(grace - Duration::from_millis(1)).await;
        assert_eq!(node.online_among(&[user]).await, [true], "within grace");
        assert!(changes.try_recv().is_err(), "nothing decided yet");

        // A reload within grace: no change at all, and the old timer decides nothing.
        assert!(!node.connect(user, role).await);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(changes.try_recv().is_err(), "still connected");

        node.disconnect(user, role);
        let change = changes.recv().await.expect("a departure");
        assert!(matches!(change, PresenceChange::Offline { user: u, .. } if u == user));
        assert_eq!(node.online_among(&[user]).await, [false]);
    }
}
