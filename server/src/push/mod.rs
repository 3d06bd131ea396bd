//! Between visits: Web Push reminders of replies (RFC 8030, payloads encrypted per RFC 8291,
//! VAPID per RFC 8292; the crate `web-push-native` does the cryptography). The chat domain
//! publishes [`ChatEvent::Unread`] for each person's message; this adapter decides, per
//! reader, whether a reminder is due and sends it:
//!
//! - not while any of their tabs is watching (connected, and not hidden for
//!   `hidden_after`: the [`Attention`] port, which `realtime` implements across nodes);
//! - only to devices whose session is alive, never a shared-computer sign-in (refused at
//!   subscription), and a psychiatrist's out of hours only where they chose it;
//! - at most one per conversation until they read it (claimed in the database, so two
//!   nodes cannot both send; the event itself is published on one node only);
//! - saying by default no name and no text ("New message in Haven"), per device.
//!
//! Sending is off the send path: a bounded queue, bounded concurrency, retries
//! ([`delivery`]). Endpoints are URLs users supply: [`endpoint`] keeps them public.

pub mod backend;
mod delivery;
pub mod endpoint;
mod keys;

use std::sync::Arc;
use std::time::Duration;

use app::backend::PushSubscriptionForm;
use app::error::ErrorCode;
use app::protocol::{ConversationId, PushOffer, PushPayload, PushWords, Role, Timestamp, UserId};
use async_trait::async_trait;
use base64ct::{Base64UrlUnpadded, Encoding};
use tokio::sync::mpsc;
use web_push_native::{Auth, WebPushBuilder};

use crate::chat::{ChatEvent, Publisher, Unread};
use crate::metrics::{PushOutcome, METRICS};
use crate::store::{self, Db, StoreError};
use endpoint::{EndpointError, EndpointPolicy};
pub use keys::VapidKeys;

/// Web Push settings (`haven serve`'s `HAVEN_VAPID_*` and `HAVEN_PUSH_*`).
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// The VAPID private key; `None`: made once and kept in the database.
    pub vapid_private_key: Option<String>,
    /// The contact push services see; `None`: the public URL.
    pub vapid_subject: Option<String>,
    /// How long all of a person's tabs must have been hidden before they are reminded.
    pub hidden_after: Duration,
    /// Tests only: push services on loopback, over plain `http`.
    pub allow_loopback: bool,
}

/// How long a push service keeps a reminder for a device that is offline.
const TTL_SECS: u64 = 24 * 3600;
/// Reminders waiting to be decided; past this they are dropped (and counted).
const INTAKE: usize = 4096;
/// How long a reader found without devices is not asked about again. Subscribing on this
/// node forgets it at once; a device turned on through another node is seen within this.
const NO_DEVICES_FOR: Duration = Duration::from_secs(10);

/// Readers known to have no device with notifications on, until when. Most readers have
/// none: without this, every message would cost a database query to find that out.
#[derive(Default)]
struct Deviceless(std::sync::Mutex<std::collections::HashMap<UserId, std::time::Instant>>);

impl Deviceless {
    fn known(&self, user: UserId, now: std::time::Instant) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&user)
            .is_some_and(|until| *until > now)
    }

    fn mark(&self, users: impl IntoIterator<Item = UserId>, now: std::time::Instant) {
        let mut known = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if known.len() > 100_000 {
            known.retain(|_, until| *until > now);
        }
        known.extend(users.into_iter().map(|user| (user, now + NO_DEVICES_FOR)));
    }

    fn forget(&self, user: UserId) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&user);
    }
}

/// The question this adapter asks of the live transport.
#[async_trait]
pub trait Attention: Send + Sync {
    /// Whether any tab of `user`, on any node, is connected and has not been hidden for
    /// the configured while.
    async fn watching(&self, user: UserId) -> bool;
}

/// Why a subscription was refused, or a push could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}")]
    Endpoint(#[from] EndpointError),
    #[error("the subscription's keys are not a browser's (p256dh: a P-256 point, auth: 16 bytes)")]
    Keys,
    #[error("the notification setting must be \"private\" or \"names\"")]
    Words,
    /// A shared-computer sign-in: nothing is kept for this device.
    #[error("notifications are not offered on a shared computer")]
    NotOffered,
    #[error("the VAPID private key is not a base64url P-256 key")]
    BadKey,
    #[error("a push could not be encrypted")]
    Encrypt(#[source] web_push_native::Error),
    #[error("storage")]
    Store(#[from] StoreError),
}

impl PushError {
    /// The stable code it answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            PushError::Endpoint(_) | PushError::Keys | PushError::Words => {
                ErrorCode::InvalidSubscription
            }
            PushError::NotOffered => ErrorCode::PushNotOffered,
            PushError::BadKey | PushError::Encrypt(_) | PushError::Store(_) => ErrorCode::Internal,
        }
    }
}

/// Who asks to subscribe: the session's user and the session itself.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub user: UserId,
    pub role: Role,
    /// tower-sessions' id of the session (subscriptions end with it).
    pub session_id: String,
    /// When the session was signed in (Unix seconds): it ends `absolute` later at most.
    pub signed_in_at: i64,
    /// "This is a shared computer".
    pub shared: bool,
}

/// The Web Push adapter.
pub struct Push {
    db: Db,
    keys: VapidKeys,
    subject: String,
    policy: EndpointPolicy,
    session_absolute: Duration,
    intake: mpsc::Sender<Unread>,
    deviceless: Deviceless,
}

impl Push {
    /// Loads (or makes) the VAPID key and starts the reminder and delivery tasks.
    pub async fn start(
        db: Db,
        config: &PushConfig,
        public_url: &str,
        session_absolute: Duration,
        attention: Arc<dyn Attention>,
    ) -> Result<Arc<Self>, PushError> {
        let keys = VapidKeys::load(&db, config.vapid_private_key.as_deref()).await?;
        let policy = EndpointPolicy {
            allow_loopback: config.allow_loopback,
        };
        let (intake, unread) = mpsc::channel(INTAKE);
        let push = Arc::new(Self {
            db: db.clone(),
            keys,
            subject: config
                .vapid_subject
                .clone()
                .unwrap_or_else(|| public_url.to_owned()),
            policy,
            session_absolute,
            intake,
            deviceless: Deviceless::default(),
        });
        let queue = delivery::start(db, policy);
        tokio::spawn(decide(push.clone(), attention, unread, queue));
        Ok(push)
    }

    /// What the settings page offers this session.
    pub fn offer(&self, role: Role, shared: bool) -> PushOffer {
        PushOffer {
            offered: !shared,
            public_key: self.keys.public.clone(),
            psychiatrist: role == Role::Psychiatrist,
        }
    }

    /// Keeps a device's subscription for the session asking (replacing its earlier choice).
    pub async fn subscribe(
        &self,
        who: &Subscriber,
        form: PushSubscriptionForm,
    ) -> Result<(), PushError> {
        if who.shared {
            return Err(PushError::NotOffered);
        }
        let words = PushWords::parse(&form.words).ok_or(PushError::Words)?;
        let endpoint = self.policy.check(form.endpoint.trim()).await?;
        decode_keys(&form.p256dh, &form.auth)?;
        let lifetime = i64::try_from(self.session_absolute.as_millis()).unwrap_or(i64::MAX);
        let ends = (who.signed_in_at.saturating_mul(1000)).saturating_add(lifetime);
        store::push::subscribe(
            &self.db,
            store::push::NewSubscription {
                user: who.user,
                session_id: &who.session_id,
                session_ends_at: Timestamp::from_millis(ends),
                endpoint: endpoint.as_str(),
                p256dh: form.p256dh.trim(),
                auth: form.auth.trim(),
                words: words.as_str(),
                after_hours: form.after_hours && who.role == Role::Psychiatrist,
                at: Timestamp::now(),
            },
        )
        .await?;
        self.deviceless.forget(who.user);
        Ok(())
    }

    /// Forgets this session's subscription at `endpoint` (notifications turned off here).
    pub async fn unsubscribe(&self, session_id: &str, endpoint: &str) -> Result<(), PushError> {
        Ok(store::push::unsubscribe(&self.db, session_id, endpoint.trim()).await?)
    }

    /// The encrypted request reminding one device of a conversation.
    fn request(
        &self,
        subscription: &store::push::SubscriptionRow,
        payload: &PushPayload,
        conversation: ConversationId,
    ) -> Result<http::Request<Vec<u8>>, PushError> {
        let (public, auth) = decode_keys(&subscription.p256dh, &subscription.auth)?;
        let uri: http::Uri = subscription
            .endpoint
            .parse()
            .map_err(|_| PushError::Endpoint(EndpointError::NotUrl))?;
        let body = serde_json::to_vec(payload).unwrap_or_default();
        let authorization = self.keys.authorization(&uri, &self.subject)?;
        let mut request = WebPushBuilder::new(uri, public, auth)
            .with_valid_duration(keys::SIGNATURE_VALID)
            .build(body)
            .map_err(PushError::Encrypt)?;
        request
            .headers_mut()
            .insert(http::header::AUTHORIZATION, authorization);
        let headers = request.headers_mut();
        headers.insert("ttl", http::HeaderValue::from(TTL_SECS));
        headers.insert("urgency", http::HeaderValue::from_static("normal"));
        // A newer reminder of the same conversation replaces one not yet delivered.
        if let Ok(topic) = http::HeaderValue::from_str(&format!("conversation-{}", conversation.0))
        {
            headers.insert("topic", topic);
        }
        Ok(request)
    }
}

/// The subscription's keys, checked: a P-256 point and a 16-byte secret.
fn decode_keys(
    p256dh: &str,
    auth: &str,
) -> Result<(web_push_native::p256::PublicKey, Auth), PushError> {
    let point = Base64UrlUnpadded::decode_vec(p256dh.trim().trim_end_matches('='))
        .map_err(|_| PushError::Keys)?;
    let public =
        web_push_native::p256::PublicKey::from_sec1_bytes(&point).map_err(|_| PushError::Keys)?;
    let secret = Base64UrlUnpadded::decode_vec(auth.trim().trim_end_matches('='))
        .map_err(|_| PushError::Keys)?;
    if secret.len() != 16 {
        return Err(PushError::Keys);
    }
    Ok((public, Auth::clone_from_slice(&secret)))
}

#[async_trait]
impl Publisher for Push {
    /// Takes reminders only, without waiting: the sender's ack does not wait for pushes.
    async fn publish(&self, event: ChatEvent) {
        if let ChatEvent::Unread(unread) = event {
            if self.intake.try_send(unread).is_err() {
                METRICS.push(PushOutcome::Dropped);
            }
        }
    }
}

/// Decides each reminder, in arrival order, and queues the pushes it calls for.
async fn decide(
    push: Arc<Push>,
    attention: Arc<dyn Attention>,
    mut unread: mpsc::Receiver<Unread>,
    queue: mpsc::Sender<delivery::Job>,
) {
    while let Some(unread) = unread.recv().await {
        if let Err(e) = remind(&push, attention.as_ref(), &queue, unread).await {
            tracing::error!(error = %crate::report::chain(&e), "reminder not decided");
        }
    }
}

/// The pushes one message calls for.
async fn remind(
    push: &Push,
    attention: &dyn Attention,
    queue: &mpsc::Sender<delivery::Job>,
    unread: Unread,
) -> Result<(), PushError> {
    let now = Timestamp::now();
    // One query for the readers' devices, leaving out those recently found without any.
    let clock = std::time::Instant::now();
    let users: Vec<UserId> = unread
        .readers
        .iter()
        .map(|r| r.user)
        .filter(|user| !push.deviceless.known(*user, clock))
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    let mut devices = store::push::of_users(&push.db, &users, now).await?;
    push.deviceless.mark(
        users
            .iter()
            .copied()
            .filter(|user| !devices.iter().any(|d| d.user_id == *user && d.live)),
        clock,
    );
    for dead in devices.iter().filter(|s| !s.live) {
        // Its session ended some other way (expired): it is never used again.
        store::push::remove(&push.db, dead.id).await?;
    }
    devices.retain(|s| s.live);
    // The name a reminder "with names" shows, read once if any device wants it.
    let mut name = unread.group.clone();
    for reader in &unread.readers {
        let due: Vec<&store::push::SubscriptionRow> = devices
            .iter()
            .filter(|s| s.user_id == reader.user && (!reader.after_hours || s.after_hours))
            .collect();
        if due.is_empty() || attention.watching(reader.user).await {
            continue;
        }
        let claimed = store::push::claim(
            &push.db,
            unread.conversation_id,
            reader.user,
            unread.message_id,
        )
        .await?;
        if !claimed {
            continue;
        }
        for subscription in due {
            let words = PushWords::parse(&subscription.words).unwrap_or_default();
            if words == PushWords::Names && name.is_none() {
                name = store::users::find_by_id(&push.db, unread.sender)
                    .await?
                    .map(|sender| sender.display_name);
            }
            let payload = PushPayload {
                title: words.title(name.as_deref().unwrap_or("someone")),
                url: format!("/chat/{}", unread.conversation_id.0),
                tag: format!("conversation-{}", unread.conversation_id.0),
            };
            // One device's unusable row costs only that device its reminder.
            let request = match push.request(subscription, &payload, unread.conversation_id) {
                Ok(request) => request,
                Err(e) => {
                    METRICS.push(PushOutcome::Failed);
                    tracing::warn!(subscription = subscription.id, error = %e, "push not made");
                    continue;
                }
            };
            let job = delivery::Job {
                subscription: subscription.id,
                request,
            };
            if queue.try_send(job).is_err() {
                METRICS.push(PushOutcome::Dropped);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn readers_without_devices_are_skipped_for_a_while_and_a_subscription_ends_that() {
        let known = Deviceless::default();
        let now = Instant::now();
        let (a, b) = (UserId(1), UserId(2));
        known.mark([a], now);
        assert!(known.known(a, now));
        assert!(!known.known(b, now));
        assert!(
            !known.known(a, now + NO_DEVICES_FOR),
            "asked again after a while"
        );
        known.forget(a);
        assert!(!known.known(a, now), "subscribing here counts at once");
    }
}
