//! One delivery worker per target: claims due outbox entries (the store keeps
//! per-key order), sends them with the target's headers, auth, timeout, rate
//! limit and concurrency cap, and records every attempt. Failures retry with
//! full-jitter backoff (or the target's `Retry-After`); 4xx other than
//! 408/429 and exhausted retries become dead letters. A circuit breaker stops
//! hammering a target that keeps failing, probing it once when it half-opens.
//!
//! OAuth2 targets get their access token from the target's shared
//! [`TokenSource`]; a 401 refreshes it once and the second answer counts.
//! Nothing a worker stores or logs carries a credential: URLs lose their
//! userinfo and configured secrets are blanked out of the target's answer.
//!
//! Every claim is a lease (the target's timeout, the rate limiter's wait and
//! a margin): if an attempt cannot be recorded (a full disk), the delivery
//! is claimed again once the lease is over, in its business key's order.

use super::breaker::CircuitBreaker;
use super::client::{HttpSender, OutboundRequest, OutboundResponse, SendError};
use super::oauth::{AccessToken, TokenSource};
use super::recorder::AttemptRecorder;
use super::redact::{Scrubber, is_sensitive_header, redact_url};
use super::retry::{
    Disposition, RetryPolicy, classify_error, classify_status, classify_token_error,
};
use crate::config::{TargetAuth, TargetConfig};
use crate::ratelimit::TokenBucket;
use crate::store::{AttemptOutcome, Delivery, NewDeadLetter, NextStep, Store, now_ms};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

/// How often an idle worker looks for due retries.
const POLL: Duration = Duration::from_millis(100);
/// Bytes of a response kept with an attempt.
const SNIPPET: usize = 512;
/// Deliveries per send slot that may wait for their attempt to be written.
const UNRECORDED_PER_SLOT: usize = 4;
/// Lease margin when none is configured.
const DEFAULT_LEASE_MARGIN: Duration = Duration::from_secs(30);

/// What the sync patterns do when a delivery ends: map a command's answer
/// back, start a compensating workflow after a refusal. Called before the
/// attempt is recorded, so a crash in between repeats the delivery (same
/// idempotency key) and the hook, never loses it.
#[async_trait::async_trait]
pub trait DeliveryHooks: Send + Sync {
    /// The target acknowledged `d` with `status` and `body`.
    async fn delivered(&self, d: &Delivery, status: u16, body: &[u8]);
    /// `d` is given up with `dead`.
    async fn dead(&self, d: &Delivery, dead: &NewDeadLetter);
}

/// A target's delivery worker.
pub struct TargetWorker {
    hooks: Option<Arc<dyn DeliveryHooks>>,
    name: String,
    config: TargetConfig,
    policy: RetryPolicy,
    store: Arc<dyn Store>,
    /// Started on the first attempt (inside the runtime).
    recorder: std::sync::OnceLock<AttemptRecorder>,
    sender: HttpSender,
    breaker: Arc<CircuitBreaker>,
    bucket: Option<TokenBucket>,
    /// Sends under way (a slot is free again once the target answered,
    /// before the attempt is durable: the claim keeps the delivery, and
    /// its business key, held until the record commits).
    in_flight: Arc<AtomicUsize>,
    /// Told whenever a send ends, so the loop claims for the free slot.
    slot_freed: Notify,
    tokens: Option<TokenSource>,
    scrubber: Scrubber,
    lease_margin: Duration,
}

/// What one send produced: the answer or the failure, and the disposition.
struct Sent {
    result: Result<OutboundResponse, SendError>,
    /// The access token sent, to blank it out of the kept answer.
    token: Option<AccessToken>,
    /// Set when no token could be obtained (the target was not called).
    token_failure: Option<Disposition>,
}

impl TargetWorker {
    /// A worker for target `name`; `sender` carries the target's TLS
    /// settings (see [`HttpSender::with_tls`]) and is used for the OAuth2
    /// token endpoint too.
    pub fn new(
        name: &str,
        config: &TargetConfig,
        store: Arc<dyn Store>,
        sender: HttpSender,
    ) -> Self {
        let timeout = Duration::from_millis(config.timeout_ms);
        let tokens = match &config.auth {
            TargetAuth::OAuth2(oauth) => Some(TokenSource::new(
                name,
                oauth.clone(),
                sender.clone(),
                timeout,
            )),
            _ => None,
        };
        Self {
            tokens,
            scrubber: scrubber_for(config),
            name: name.to_string(),
            policy: RetryPolicy {
                max_attempts: config.retry.max_attempts.max(1),
                base: Duration::from_millis(config.retry.base_ms),
                cap: Duration::from_millis(config.retry.cap_ms),
            },
            breaker: Arc::new(CircuitBreaker::new(
                config.breaker.failure_threshold.max(1),
                Duration::from_secs(config.breaker.open_secs),
            )),
            bucket: config
                .rate_limit
                .as_ref()
                .map(|r| TokenBucket::new(r.per_second, r.burst)),
            config: config.clone(),
            recorder: std::sync::OnceLock::new(),
            store,
            sender,
            in_flight: Arc::new(AtomicUsize::new(0)),
            slot_freed: Notify::new(),
            hooks: None,
            lease_margin: DEFAULT_LEASE_MARGIN,
        }
    }

    /// The target's circuit breaker (for the admin overview).
    pub fn breaker(&self) -> Arc<CircuitBreaker> {
        self.breaker.clone()
    }

    /// The same worker, with `margin` on top of the target's timeout in
    /// every claim's lease.
    pub fn with_lease_margin(mut self, margin: Duration) -> Self {
        self.lease_margin = margin;
        self
    }

    /// The lease of a claim of `claimed` deliveries: the send's timeout,
    /// the longest the rate limiter may hold the last of them back, and the
    /// margin for the hooks and the write.
    fn lease_ms(&self, claimed: usize) -> i64 {
        let queued = self.config.rate_limit.as_ref().map_or(0.0, |r| {
            claimed as f64 / r.per_second.max(f64::MIN_POSITIVE) * 1000.0
        });
        let ms = self.config.timeout_ms as f64 + queued + self.lease_margin.as_millis() as f64;
        ms.min(i64::MAX as f64) as i64
    }

    /// The same worker, calling `hooks` when a delivery ends.
    pub fn with_hooks(mut self, hooks: Arc<dyn DeliveryHooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// Runs until `shutdown`; then waits up to `grace` for sends in flight
    /// (anything unfinished stays in flight in the store and is recovered
    /// as pending at the next start).
    pub async fn run(
        self: Arc<Self>,
        wake: Arc<Notify>,
        mut shutdown: watch::Receiver<bool>,
        grace: Duration,
    ) {
        let mut sends: JoinSet<()> = JoinSet::new();
        let max = self.config.max_in_flight.max(1);
        // Deliveries sent whose attempt is still being written are bounded
        // too, so a slow store holds back claims instead of piling up tasks.
        let max_tasks = max.saturating_mul(UNRECORDED_PER_SLOT);
        loop {
            while sends.try_join_next().is_some() {}
            if *shutdown.borrow() {
                break;
            }
            let free = max
                .saturating_sub(self.in_flight.load(Ordering::Acquire))
                .min(max_tasks.saturating_sub(sends.len()));
            let now = Instant::now();
            let batch = if free == 0 || !self.breaker.allow(now) {
                Vec::new()
            } else {
                // A half-open breaker lets exactly one probe through.
                let limit = if matches!(self.breaker.state(now), super::BreakerState::Closed) {
                    free
                } else {
                    1
                };
                match self
                    .store
                    .claim_deliveries(&self.name, now_ms(), limit, self.lease_ms(limit))
                    .await
                {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::error!(target_name = %self.name, error = %e, "cannot claim deliveries");
                        Vec::new()
                    }
                }
            };
            if batch.is_empty() {
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = self.slot_freed.notified(), if free == 0 => {}
                    _ = tokio::time::sleep(POLL) => {}
                    Some(_) = sends.join_next(), if !sends.is_empty() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            for delivery in batch {
                if let Some(bucket) = &self.bucket {
                    bucket.acquire().await;
                }
                self.in_flight.fetch_add(1, Ordering::AcqRel);
                let worker = self.clone();
                sends.spawn(async move { worker.deliver(delivery).await });
            }
        }
        let drained =
            tokio::time::timeout(grace, async { while sends.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(target_name = %self.name, left = sends.len(), "shutdown grace over; unfinished deliveries resume at next start");
            sends.abort_all();
        }
    }

    /// Sends one delivery and records the attempt, in a `waybill.deliver`
    /// span entered only while the future is polled (a guard held across
    /// `.await` would leak the span into whatever else runs on the thread).
    #[tracing::instrument(name = "waybill.deliver", skip_all, fields(correlation_id = %d.correlation_id, route = %d.route, target = %self.name, plugin = %d.plugin, delivery_id = d.id))]
    async fn deliver(&self, mut d: Delivery) {
        let started_at = now_ms();
        let mut headers = vec![
            ("content-type".to_string(), d.content_type.clone()),
            ("idempotency-key".to_string(), d.idempotency_key.clone()),
            ("x-correlation-id".to_string(), d.correlation_id.clone()),
            ("x-waybill-plugin".to_string(), d.plugin.clone()),
        ];
        headers.extend(
            self.config
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_owned())),
        );
        if let TargetAuth::Bearer { token } = &self.config.auth {
            headers.push(("authorization".into(), format!("Bearer {}", token.expose())));
        }
        let request = OutboundRequest {
            url: self.config.url.clone(),
            headers,
            // Sent once; nothing after the send reads the body.
            body: bytes::Bytes::from(std::mem::take(&mut d.body)),
            timeout: Duration::from_millis(self.config.timeout_ms),
        };
        let sent = self.send(request).await;
        let result = sent.result;
        let attempt = d.attempts + 1;
        let scrub = |text: &str| {
            self.scrubber
                .scrub(text, sent.token.as_ref().map(AccessToken::expose))
        };
        let (status, response, disposition) = match (&result, sent.token_failure) {
            (_, Some(disposition)) => {
                let reason = match &disposition {
                    Disposition::Retry { reason, .. } | Disposition::Reject { reason } => {
                        reason.clone()
                    }
                    Disposition::Delivered => String::new(),
                };
                (None, scrub(&reason), disposition)
            }
            (Ok(r), None) => {
                let snippet = String::from_utf8_lossy(&r.body[..r.body.len().min(SNIPPET)]);
                let disposition =
                    classify_status(r.status, r.header("retry-after"), SystemTime::now());
                (
                    Some(r.status),
                    scrub(&format!("{} {}", r.status, snippet)),
                    disposition,
                )
            }
            (Err(e), None) => (None, scrub(&e.to_string()), classify_error(e)),
        };
        let tls_refused = matches!(result, Err(SendError::Tls(_)));
        match &disposition {
            Disposition::Delivered => self.breaker.on_success(),
            Disposition::Reject { .. } => self.breaker.on_success(),
            Disposition::Retry { .. } => self.breaker.on_failure(Instant::now()),
        }
        let next = match disposition {
            Disposition::Delivered => NextStep::Delivered,
            Disposition::Reject { reason } => {
                let code = if tls_refused {
                    "delivery-tls"
                } else {
                    "delivery-rejected"
                };
                let reason = self.naming_target(&scrub(&reason));
                NextStep::Dead(self.dead_letter(&d, code, &reason, (status, &response)))
            }
            Disposition::Retry { after, reason } => {
                if self.policy.exhausted(attempt) {
                    let reason = self.naming_target(&scrub(&reason));
                    NextStep::Dead(self.dead_letter(
                        &d,
                        "delivery-exhausted",
                        &reason,
                        (status, &response),
                    ))
                } else {
                    let backoff = self.policy.backoff(attempt, &mut rand::rng());
                    let wait = after.map_or(backoff, |a| a.max(backoff));
                    NextStep::RetryAt(now_ms() + wait.as_millis() as i64)
                }
            }
        };
        match &next {
            NextStep::Delivered => tracing::info!(attempt, status = ?status, "delivered"),
            NextStep::RetryAt(at) => {
                tracing::warn!(attempt, status = ?status, retry_in_ms = at - now_ms(), "delivery failed; will retry")
            }
            NextStep::Dead(dl) => {
                tracing::error!(attempt, status = ?status, reason = %dl.reason, "delivery dead-lettered")
            }
            NextStep::Release(_) => {}
        }
        if let Some(hooks) = &self.hooks {
            match (&next, &result) {
                (NextStep::Delivered, Ok(r)) => hooks.delivered(&d, r.status, &r.body).await,
                (NextStep::Dead(dl), _) => hooks.dead(&d, dl).await,
                _ => {}
            }
        }
        // The target has answered: the slot is free for the next claim
        // while this attempt is written.
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.slot_freed.notify_one();
        let elapsed_ms = (now_ms() - started_at).max(0) as u64;
        let outcome = AttemptOutcome {
            delivery_id: d.id,
            claimed_at: d.claimed_at,
            started_at,
            elapsed_ms,
            status,
            response,
            next,
        };
        let recorder = self
            .recorder
            .get_or_init(|| AttemptRecorder::start(self.store.clone()));
        if let Err(e) = recorder.record(outcome).await {
            // The delivery stays in flight until its lease is over, then it
            // is claimed and sent again: at-least-once, with the same
            // idempotency key, and nothing behind it is let through first.
            tracing::error!(error = %e, "cannot record delivery attempt; it is sent again after its lease");
        }
    }

    /// Sends `request`, with an OAuth2 access token when the target uses
    /// one; a 401 to that token refreshes it once and sends again.
    async fn send(&self, mut request: OutboundRequest) -> Sent {
        let Some(tokens) = &self.tokens else {
            return Sent {
                result: self.sender.post(request).await,
                token: None,
                token_failure: None,
            };
        };
        let mut refreshed = false;
        loop {
            let token = match tokens.token().await {
                Ok(token) => token,
                Err(e) => {
                    tracing::warn!(error = %e, "no OAuth2 access token");
                    return Sent {
                        result: Err(SendError::Connect(e.to_string())),
                        token: None,
                        token_failure: Some(classify_token_error(&e)),
                    };
                }
            };
            request
                .headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
            request
                .headers
                .push(("authorization".into(), format!("Bearer {}", token.expose())));
            let result = self.sender.post(request.clone()).await;
            if !refreshed && matches!(&result, Ok(r) if r.status == 401) {
                tracing::info!("target answered 401; refreshing the OAuth2 access token once");
                tokens.invalidate(&token).await;
                refreshed = true;
                continue;
            }
            return Sent {
                result,
                token: Some(token),
                token_failure: None,
            };
        }
    }

    /// `reason` starting with the target's name.
    fn naming_target(&self, reason: &str) -> String {
        if reason.starts_with("target ") {
            reason.to_owned()
        } else {
            format!("target {}: {reason}", self.name)
        }
    }

    fn dead_letter(
        &self,
        d: &Delivery,
        reason: &str,
        why: &str,
        (status, response): (Option<u16>, &str),
    ) -> NewDeadLetter {
        NewDeadLetter {
            route: Some(d.route.clone()),
            target: Some(self.name.clone()),
            reason: reason.to_string(),
            detail: serde_json::json!({"message": why, "url": redact_url(&self.config.url)}),
            attempts: d.attempts + 1,
            last_response: Some(response.to_string()),
            last_status: status,
            plugin: Some(crate::store::PluginStamp {
                plugin: d.plugin.clone(),
                sha256: d.plugin_sha256.clone(),
            }),
        }
    }
}

/// The configured secrets of a target, to blank out of what is kept.
fn scrubber_for(config: &TargetConfig) -> Scrubber {
    let mut secrets: Vec<String> = config
        .headers
        .iter()
        .filter(|(name, _)| is_sensitive_header(name))
        .map(|(_, value)| value.expose().to_owned())
        .collect();
    match &config.auth {
        TargetAuth::None => {}
        TargetAuth::Bearer { token } => secrets.push(token.expose().to_owned()),
        TargetAuth::OAuth2(oauth) => secrets.push(oauth.client_secret.expose().to_owned()),
    }
    if let Ok(url) = url::Url::parse(&config.url)
        && let Some(password) = url.password()
    {
        secrets.push(password.to_owned());
        secrets.push(
            percent_encoding::percent_decode_str(password)
                .decode_utf8_lossy()
                .into_owned(),
        );
    }
    Scrubber::new(secrets)
}
