//! The shared state behind every request: configuration, store, plugins,
//! the processing wake-up, per-source rate limits, HMAC replay guards and
//! ingest counters.

use super::replay_guard::ReplayGuard;
use crate::config::{Config, SourceAuth};
use crate::plugins::Registry;
use crate::process::Processor;
use crate::ratelimit::TokenBucket;
use crate::store::Store;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use tokio::sync::Notify;

/// Ingest counters and latencies (the rest of the metrics are read from the
/// store and the registry at scrape time).
pub struct IngestMetrics {
    /// `waybill_ingest_requests_total{source, status}`.
    pub requests: Family<Vec<(String, String)>, Counter>,
    /// `waybill_ingest_ack_seconds`: receipt to durable ack.
    pub ack_seconds: Histogram,
}

impl Default for IngestMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            ack_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
        }
    }
}

/// State shared by all handlers.
pub struct App {
    /// The configuration.
    pub config: Arc<Config>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Plugins.
    pub registry: Arc<Registry>,
    /// Maps messages (used by replay).
    pub processor: Arc<Processor>,
    /// Wakes the processing loop after an ingest.
    pub wake_processing: Arc<Notify>,
    /// Wakes the delivery workers when new deliveries are enqueued.
    pub wake_deliveries: Arc<Notify>,
    /// Callers waiting for synchronous commands.
    pub commands: crate::context::CommandWaiters,
    /// Per-source rate limits.
    pub source_limits: BTreeMap<String, TokenBucket>,
    /// Per-source signatures already accepted (HMAC sources).
    pub replay_guards: BTreeMap<String, ReplayGuard>,
    /// Work waiting, refreshed in the background (back-pressure).
    pub backlog: AtomicU64,
    /// Ingest metrics.
    pub metrics: IngestMetrics,
    /// Whether the host finished starting and is not shutting down.
    pub ready: AtomicBool,
    /// This host's name (`server.host_id`) where several share a store.
    pub host_id: String,
    /// Follows (and makes) the store's plugin decisions.
    pub distribution: Arc<crate::distribution::Distributor>,
    /// Follows (and makes) the store's plugin canaries.
    pub canaries: Arc<crate::distribution::CanaryFollower>,
    /// Follows the store's shadow runs; starts and stops them.
    pub shadow: Arc<crate::distribution::ShadowFollower>,
    /// The delivery workers' circuit breakers, by target.
    pub breakers: crate::deliver::Breakers,
    /// The console's signed-in sessions.
    pub console_sessions: crate::context::ConsoleSessions,
}

/// The metric label of an unconfigured source (or any other name taken
/// from a request path that the configuration does not know).
pub const UNKNOWN_LABEL: &str = "unknown";

impl App {
    /// `name` if a source of that name is configured, else `unknown`, so a
    /// client cannot add label values (series) by inventing names.
    pub fn source_label<'a>(&self, name: &'a str) -> &'a str {
        if self.config.sources.contains_key(name) {
            name
        } else {
            UNKNOWN_LABEL
        }
    }

    /// How long a request body may take to arrive.
    pub fn body_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.config.server.limits.body_read_timeout_ms)
    }

    /// Builds the state; rate limits come from the sources' configuration.
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        registry: Arc<Registry>,
        processor: Arc<Processor>,
        distribution: Arc<crate::distribution::Distributor>,
    ) -> Arc<Self> {
        let source_limits = config
            .sources
            .iter()
            .filter_map(|(name, s)| {
                s.rate_limit
                    .as_ref()
                    .map(|r| (name.clone(), TokenBucket::new(r.per_second, r.burst)))
            })
            .collect();
        let replay_guards = config
            .sources
            .iter()
            .filter(|(_, s)| matches!(s.auth, SourceAuth::Hmac { .. }))
            .map(|(name, _)| {
                (
                    name.clone(),
                    ReplayGuard::new(config.server.limits.replay_cache_entries),
                )
            })
            .collect();
        let shadow = crate::distribution::ShadowFollower::new(
            store.clone(),
            distribution.clone(),
            processor.shadows().clone(),
            &config.plugins.shadow,
        );
        Arc::new(Self {
            host_id: distribution.host().to_string(),
            canaries: crate::distribution::CanaryFollower::new(
                store.clone(),
                distribution.clone(),
                config.plugins.canary.clone(),
            ),
            shadow,
            distribution,
            config,
            store,
            registry,
            processor,
            wake_processing: Arc::new(Notify::new()),
            wake_deliveries: Arc::new(Notify::new()),
            commands: crate::context::CommandWaiters::default(),
            source_limits,
            replay_guards,
            backlog: AtomicU64::new(0),
            metrics: IngestMetrics::default(),
            ready: AtomicBool::new(false),
            breakers: crate::deliver::Breakers::default(),
            console_sessions: crate::context::ConsoleSessions::default(),
        })
    }
}
