//! Sending pushes, off the send path: a bounded queue, a few requests at once, and retries.
//! 429 and 5xx (and no answer) are tried again after the service's `Retry-After` or a
//! growing backoff; 404 and 410 mean the subscription is gone, and it is removed. Nothing of
//! a message is logged: a push is named by its subscription's row id.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};

use super::endpoint::{self, EndpointPolicy};
use crate::metrics::{PushOutcome, METRICS};
use crate::store::{self, Db};
use app::protocol::Timestamp;

/// Pushes waiting to be sent; past this the newest are dropped (and counted).
pub const QUEUE: usize = 4096;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;
/// Attempts per push, the first included.
const ATTEMPTS: u32 = 5;
/// The first retry's wait without `Retry-After`; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait honoured (a `Retry-After` beyond it gives up: the push would be stale).
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// A push service's whole answer must come within this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// One encrypted push request for one subscription.
pub struct Job {
    pub subscription: i64,
    pub request: http::Request<Vec<u8>>,
}

/// What a push service's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    /// The subscription no longer exists.
    Gone,
    /// Try again, after this long if the service said.
    Later(Option<Duration>),
    /// Refused for good (a malformed or unauthorised request).
    Refused,
}

/// Reads a status and its `Retry-After` (seconds; an HTTP date counts as unsaid).
pub fn answer(status: u16, retry_after: Option<&str>) -> Answer {
    match status {
        200..=299 => Answer::Accepted,
        404 | 410 => Answer::Gone,
        429 | 500..=599 => Answer::Later(
            retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
        ),
        _ => Answer::Refused,
    }
}

/// The HTTP client for push services: no redirects, no proxies from the environment,
/// bounded time, and a resolver that connects to allowed addresses only.
pub fn client(policy: EndpointPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .https_only(!policy.allow_loopback)
        .dns_resolver(endpoint::resolver(policy))
        .user_agent("Haven")
        .build()
        .expect("a client with these settings builds")
}

/// Starts the senders; answers the queue that pushes are handed to.
pub fn start(db: Db, policy: EndpointPolicy) -> mpsc::Sender<Job> {
    let (queue, mut jobs) = mpsc::channel::<Job>(QUEUE);
    let client = client(policy);
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    tokio::spawn(async move {
        while let Some(job) = jobs.recv().await {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let (db, client) = (db.clone(), client.clone());
            tokio::spawn(async move {
                send(&db, &client, policy, job).await;
                drop(slot);
            });
        }
    });
    queue
}

/// Sends one push, retrying as its answers allow.
async fn send(db: &Db, client: &reqwest::Client, policy: EndpointPolicy, job: Job) {
    let Job {
        subscription,
        request,
    } = job;
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let answered = attempt_once(client, policy, &request).await;
        let wait = match answered {
            Answer::Accepted => {
                METRICS.push(PushOutcome::Sent);
                if let Err(e) = store::push::succeeded(db, subscription, Timestamp::now()).await {
                    tracing::warn!(error = %crate::report::chain(&e), "push success not recorded");
                }
                return;
            }
            Answer::Gone => {
                METRICS.push(PushOutcome::Removed);
                tracing::info!(subscription, "push subscription gone; removed");
                if let Err(e) = store::push::remove(db, subscription).await {
                    tracing::warn!(error = %crate::report::chain(&e), "gone subscription not removed");
                }
                return;
            }
            Answer::Refused => {
                METRICS.push(PushOutcome::Failed);
                tracing::warn!(subscription, "push refused by the push service");
                return;
            }
            Answer::Later(said) => said.unwrap_or(backoff),
        };
        if attempt == ATTEMPTS || wait > LONGEST_WAIT {
            break;
        }
        METRICS.push(PushOutcome::Retried);
        tracing::debug!(
            subscription,
            attempt,
            wait_ms = wait.as_millis() as u64,
            "push retried later"
        );
        tokio::time::sleep(wait).await;
        backoff = backoff.saturating_mul(2);
    }
    METRICS.push(PushOutcome::Failed);
    tracing::warn!(subscription, "push not delivered after retries");
}

/// One request and what its answer means; no answer means "later".
async fn attempt_once(
    client: &reqwest::Client,
    policy: EndpointPolicy,
    request: &http::Request<Vec<u8>>,
) -> Answer {
    let uri = request.uri().to_string();
    // A literal address never goes through the resolver: checked here instead.
    if let Ok(url) = url::Url::parse(&uri) {
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if literal.is_some_and(|ip| !policy.allows(ip)) {
            return Answer::Refused;
        }
    }
    let mut outgoing = client.post(uri).body(request.body().clone());
    for (name, value) in request.headers() {
        outgoing = outgoing.header(name, value);
    }
    match outgoing.send().await {
        Ok(response) => answer(
            response.status().as_u16(),
            response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
        ),
        // The body is never read: its size cannot matter.
        Err(e) => {
            tracing::debug!(error = %e, "push request failed");
            Answer::Later(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_the_protocol_says() {
        assert_eq!(answer(201, None), Answer::Accepted);
        assert_eq!(answer(410, None), Answer::Gone);
        assert_eq!(answer(404, None), Answer::Gone);
        assert_eq!(
            answer(429, Some("7")),
            Answer::Later(Some(Duration::from_secs(7)))
        );
        assert_eq!(
            answer(503, Some("Wed, 21 Oct 2026 07:28:00 GMT")),
            Answer::Later(None)
        );
        assert_eq!(answer(400, None), Answer::Refused);
        assert_eq!(answer(413, None), Answer::Refused);
    }
}
