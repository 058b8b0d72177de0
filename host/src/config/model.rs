//! The configuration as typed data: one serde struct per TOML table, with the
//! defaults an operator gets when a key is left out. Parsing and error
//! positions live in `load`, cross-checks in `validate`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::outbound_tls::ClientTlsConfig;
use super::secret::Secret;

/// The whole `waybill.toml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub plugins: PluginsConfig,
    #[serde(default)]
    pub schemas: Option<SchemasConfig>,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    #[serde(default)]
    pub targets: BTreeMap<String, TargetConfig>,
    /// Scheduled and on-demand reconciliation.
    #[serde(default)]
    pub reconcile: Option<super::reconcile::ReconcileConfig>,
    /// Batch reference-data synchronisation jobs.
    #[serde(default)]
    pub sync: BTreeMap<String, super::flows::SyncJobConfig>,
}

impl Config {
    /// The routes that take a message from `source` of the given `kind`: a
    /// route without a `kind` takes every kind from its source.
    pub fn routes_for<'a>(
        &'a self,
        source: &'a str,
        kind: Option<&'a str>,
    ) -> impl Iterator<Item = &'a RouteConfig> + 'a {
        self.routes.iter().filter(move |route| {
            route.source == source
                && match (&route.kind, kind) {
                    (None, _) => true,
                    (Some(wanted), Some(got)) => wanted == got,
                    (Some(_), None) => false,
                }
        })
    }

    /// The route called `name`, if any.
    pub fn route(&self, name: &str) -> Option<&RouteConfig> {
        self.routes.iter().find(|route| route.name == name)
    }
}

/// `[server]`: the HTTP listener and ingest back-pressure.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Partner ingest and commands (`/v1/...`), `/healthz`, `/readyz`.
    #[serde(default = "default_listen", deserialize_with = "listen_addr")]
    pub listen: SocketAddr,
    /// The admin API (`/admin/v1`), `/metrics`, `/healthz`, `/readyz`.
    /// Loopback by default; equal to `listen` (with a fixed port) to serve
    /// everything on one port.
    #[serde(default = "default_admin_listen", deserialize_with = "listen_addr")]
    pub admin_listen: SocketAddr,
    /// TLS on `listen`.
    #[serde(default)]
    pub tls: Option<super::server::ListenerTls>,
    /// TLS on `admin_listen` (when it is a port of its own).
    #[serde(default)]
    pub admin_tls: Option<super::server::ListenerTls>,
    /// Connection limits, per listener.
    #[serde(default)]
    pub limits: super::server::ServerLimits,
    #[serde(default)]
    pub admin_token: Option<Secret>,
    /// Undelivered backlog past which ingest answers 503.
    #[serde(default = "default_max_backlog")]
    pub max_backlog: u64,
    #[serde(default = "default_retry_after_secs")]
    pub retry_after_secs: u64,
    #[serde(default = "default_shutdown_grace_secs")]
    pub shutdown_grace_secs: u64,
    /// This host's name in the timeline, the plugin decisions and the logs
    /// when several hosts share one store; `<hostname>-<pid>` by default.
    #[serde(default)]
    pub host_id: Option<String>,
}

impl ServerConfig {
    /// `host_id`, or `<hostname>-<pid>` when it is not set.
    pub fn host_id(&self) -> String {
        self.host_id.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .or_else(|| std::env::var("HOSTNAME").ok())
                .unwrap_or_else(|| "host".to_string());
            format!("{host}-{}", std::process::id())
        })
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            admin_listen: default_admin_listen(),
            tls: None,
            admin_tls: None,
            limits: super::server::ServerLimits::default(),
            admin_token: None,
            max_backlog: default_max_backlog(),
            retry_after_secs: default_retry_after_secs(),
            shutdown_grace_secs: default_shutdown_grace_secs(),
            host_id: None,
        }
    }
}

impl ServerConfig {
    /// Whether the admin API shares the partner port: `admin_listen` equals
    /// `listen` with a fixed port (two port-0 addresses are two ports).
    pub fn admin_shares_listen(&self) -> bool {
        self.admin_listen == self.listen && self.listen.port() != 0
    }

    /// Whether the admin listener speaks TLS: `admin_tls`, or `tls` when
    /// the admin API shares the partner port.
    pub fn admin_is_tls(&self) -> bool {
        self.admin_tls.is_some() || (self.admin_shares_listen() && self.tls.is_some())
    }
}

/// Which database holds the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// One embedded SQLite file (`store.path`), for one host.
    #[default]
    Sqlite,
    /// A PostgreSQL database (`store.url`), shared by several hosts.
    Postgres,
}

/// `[store]`: the database, embedded SQLite by default.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite` (the default) or `postgres`.
    #[serde(default)]
    pub kind: StoreKind,
    /// The PostgreSQL URL (`postgres://user@host:5432/db`), required with
    /// `kind = "postgres"`; a secret, so it may come from the environment
    /// or a file (`{ env = "WAYBILL_DATABASE_URL" }`) and never prints.
    #[serde(default)]
    pub url: Option<super::secret::Secret>,
    /// Connections in the PostgreSQL pool.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// The SQLite file; resolved against the config file's directory when
    /// relative.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    #[serde(default = "default_idempotency_window_secs")]
    pub idempotency_window_secs: u64,
    #[serde(default = "default_group_commit_max")]
    pub group_commit_max: usize,
    /// Finished records older than this many days are purged in the
    /// background (0 keeps everything).
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Host-side processing failures after which a message becomes a
    /// `poison` dead letter.
    #[serde(default = "default_max_processing_failures")]
    pub max_processing_failures: u32,
    /// Added to a target's `timeout_ms` to make the lease of an in-flight
    /// delivery: one still in flight after that is claimed again.
    #[serde(default = "default_lease_margin_secs")]
    pub lease_margin_secs: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::default(),
            url: None,
            pool_size: default_pool_size(),
            path: default_store_path(),
            idempotency_window_secs: default_idempotency_window_secs(),
            group_commit_max: default_group_commit_max(),
            retention_days: default_retention_days(),
            max_processing_failures: default_max_processing_failures(),
            lease_margin_secs: default_lease_margin_secs(),
        }
    }
}

/// `[plugins]`: where components come from and how they are bounded.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// Resolved against the config file's directory when relative.
    #[serde(default = "default_plugins_dir")]
    pub dir: PathBuf,
    /// Resolved against the config file's directory when relative.
    #[serde(default = "default_cache_dir")]
    pub cache_dir: PathBuf,
    #[serde(default = "default_true")]
    pub watch: bool,
    /// Per-plugin overrides of the default call limits, keyed by plugin name.
    #[serde(default)]
    pub limits: BTreeMap<String, LimitsConfig>,
    /// Consecutive failures after which a plugin version is quarantined.
    #[serde(default = "default_quarantine_after")]
    pub quarantine_after: u32,
    /// The largest plugin push (`POST /admin/v1/plugins`): component and
    /// fixtures together, in bytes.
    #[serde(default = "default_max_push_bytes")]
    pub max_push_bytes: u64,
    /// When a running canary aborts by itself.
    #[serde(default)]
    pub canary: super::canary::CanaryConfig,
    /// `[plugins.shadow]`: what shadow runs may cost and compare.
    #[serde(default)]
    pub shadow: super::shadow::ShadowConfig,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            dir: default_plugins_dir(),
            cache_dir: default_cache_dir(),
            watch: true,
            limits: BTreeMap::new(),
            quarantine_after: default_quarantine_after(),
            max_push_bytes: default_max_push_bytes(),
            canary: Default::default(),
            shadow: super::shadow::ShadowConfig::default(),
        }
    }
}

/// `[plugins.limits.<name>]`: unset fields keep the host defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(default)]
    pub cpu_ms: Option<u64>,
    #[serde(default)]
    pub memory_bytes: Option<usize>,
    #[serde(default)]
    pub input_bytes: Option<usize>,
    /// Bytes of outputs (or violations) one call may return.
    #[serde(default)]
    pub output_bytes: Option<usize>,
    /// Outputs (or violations) one call may return.
    #[serde(default)]
    pub outputs: Option<usize>,
    /// Bytes one call may pass to the plugin `log` import.
    #[serde(default)]
    pub log_bytes: Option<usize>,
}

/// `[schemas]`: the canonical JSON Schemas directory.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SchemasConfig {
    /// Resolved against the config file's directory when relative.
    pub dir: PathBuf,
}

/// `[sources.<name>]`: a partner system that posts messages to ingest.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The message kind handed to plugins, e.g. `acme-tms.milestone`.
    pub kind: String,
    pub auth: SourceAuth,
    /// Allowed media types, compared without parameters, case-insensitively.
    #[serde(default = "default_content_types")]
    pub content_types: Vec<String>,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// Most NDJSON lines in one bulk request; more is refused whole (413).
    #[serde(default = "default_max_bulk_lines")]
    pub max_bulk_lines: usize,
}

impl SourceConfig {
    /// Whether a request's `Content-Type` is one this source accepts: the
    /// media type without its parameters, compared case-insensitively.
    pub fn accepts(&self, content_type: &str) -> bool {
        let media = media_type(content_type);
        self.content_types
            .iter()
            .any(|allowed| media_type(allowed).eq_ignore_ascii_case(media))
    }
}

/// `text/plain; charset=utf-8` -> `text/plain`.
pub fn media_type(content_type: &str) -> &str {
    content_type
        .split(';')
        .next()
        .map(str::trim)
        .unwrap_or_default()
}

/// How a source proves who it is. TOML: `auth = { type = "hmac", ... }`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceAuth {
    None,
    Bearer {
        token: Secret,
    },
    Hmac {
        secret: Secret,
        #[serde(default = "default_hmac_header")]
        header: String,
        #[serde(default = "default_tolerance_secs")]
        tolerance_secs: u64,
    },
}

/// A token bucket: `per_second` refill, `burst` capacity.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub per_second: f64,
    pub burst: u32,
}

/// `[[routes]]`: source (and optionally kind) -> inbound plugin -> targets.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub name: String,
    pub source: String,
    #[serde(default)]
    pub kind: Option<String>,
    /// The inbound mapping; absent when the source already sends canonical
    /// documents (the kind is the schema id; the business key is the one
    /// the host recorded with the message, else its id), as reference-data
    /// sync jobs do.
    #[serde(default)]
    pub inbound: Option<PluginRef>,
    pub targets: Vec<RouteTarget>,
    /// Set for a command route (`POST /v1/commands/<name>`).
    #[serde(default)]
    pub command: Option<super::flows::CommandConfig>,
}

/// A plugin by name with the route's configuration for it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PluginRef {
    pub plugin: String,
    /// Shared with every call of the plugin (built once, at load).
    #[serde(default, deserialize_with = "shared_map", serialize_with = "plain_map")]
    pub config: std::sync::Arc<BTreeMap<String, String>>,
}

fn shared_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::sync::Arc<BTreeMap<String, String>>, D::Error> {
    BTreeMap::deserialize(d).map(std::sync::Arc::new)
}

fn plain_map<S: serde::Serializer>(
    map: &std::sync::Arc<BTreeMap<String, String>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    map.as_ref().serialize(s)
}

/// One fan-out leg of a route.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTarget {
    pub target: String,
    pub outbound: PluginRef,
    #[serde(default)]
    pub filter: Option<Filter>,
    /// The canonical major this leg accepts, e.g. `shipment-event@1`: any
    /// `1.x` document satisfies it; anything else is dead-lettered.
    #[serde(default)]
    pub schema: Option<String>,
    /// Canonical -> canonical enrichment before approval and mapping.
    #[serde(default)]
    pub enrich: Option<PluginRef>,
    /// Approval policy (financial postings).
    #[serde(default)]
    pub approval: Option<super::flows::ApprovalConfig>,
    /// Duplicate line detection.
    #[serde(default)]
    pub dedupe: Option<super::flows::DedupeConfig>,
    /// Out-of-order protection.
    #[serde(default)]
    pub ordering: Option<super::flows::OrderingConfig>,
    /// The compensating message when a delivery is refused or rejected.
    #[serde(default)]
    pub compensation: Option<super::flows::CompensationConfig>,
    /// Record acknowledged documents as the target system's state.
    #[serde(default)]
    pub confirms: Option<super::flows::ConfirmConfig>,
}

/// Only canonical documents whose value at `pointer` is one of `in` pass.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// A JSON pointer (RFC 6901) into the canonical document.
    pub pointer: String,
    #[serde(rename = "in")]
    pub equals: Vec<serde_json::Value>,
}

impl Filter {
    /// Whether `doc` passes: the pointed-at value equals one of the listed
    /// values (numbers compare by value, so `1` matches `1.0`). A missing
    /// value never passes.
    pub fn matches(&self, doc: &serde_json::Value) -> bool {
        let Some(found) = doc.pointer(&self.pointer) else {
            return false;
        };
        self.equals.iter().any(|want| values_equal(want, found))
    }
}

fn values_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(x), Some(y)) if x == y)
        }
        _ => a == b,
    }
}

/// `[targets.<name>]`: a system that receives deliveries. `Debug` shows the
/// URL without its userinfo (`user:<redacted>@host`).
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    pub url: String,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    #[serde(default)]
    pub retry: RetryConfig,
    /// Extra headers sent with every delivery; values may be secrets
    /// (`{ env = "ACME_API_KEY" }`).
    #[serde(default)]
    pub headers: BTreeMap<String, Secret>,
    #[serde(default)]
    pub auth: TargetAuth,
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// Private CA and client certificate for `https://` (and the OAuth2
    /// token endpoint); absent: the public web roots, no client certificate.
    #[serde(default)]
    pub tls: Option<ClientTlsConfig>,
}

impl std::fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetConfig")
            .field("url", &super::redact_url(&self.url))
            .field("timeout_ms", &self.timeout_ms)
            .field("max_in_flight", &self.max_in_flight)
            .field("rate_limit", &self.rate_limit)
            .field("retry", &self.retry)
            .field("headers", &self.headers)
            .field("auth", &self.auth)
            .field("breaker", &self.breaker)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Exponential backoff with full jitter between `base_ms` and `cap_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_base_ms")]
    pub base_ms: u64,
    #[serde(default = "default_cap_ms")]
    pub cap_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: default_max_attempts(),
            base_ms: default_base_ms(),
            cap_ms: default_cap_ms(),
        }
    }
}

/// How the host authenticates to a target. TOML: `auth = { type = "bearer", token = "..." }`
/// or `auth = { type = "oauth2", token_url, client_id, client_secret, scope }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum TargetAuth {
    #[default]
    None,
    Bearer {
        token: Secret,
    },
    #[serde(rename = "oauth2")]
    OAuth2(OAuth2Config),
}

/// OAuth2 client credentials grant (RFC 6749 section 4.4): the host gets an
/// access token from `token_url` and sends it as a bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Space-separated scopes; absent: the token endpoint's default.
    #[serde(default)]
    pub scope: Option<String>,
    /// How the client authenticates to the token endpoint.
    #[serde(default)]
    pub credentials: ClientCredentials,
}

/// Where the client id and secret go in the token request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientCredentials {
    /// `Authorization: Basic` (RFC 6749 section 2.3.1, the default).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Body,
}

/// Circuit breaker: open after `failure_threshold` consecutive failures,
/// probe again after `open_secs`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
    #[serde(default = "default_open_secs")]
    pub open_secs: u64,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: default_failure_threshold(),
            open_secs: default_open_secs(),
        }
    }
}

fn listen_addr<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid listen address `{text}`: expected an IP address and port such as 127.0.0.1:8080"
        ))
    })
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8081))
}
fn default_max_backlog() -> u64 {
    100_000
}
fn default_retry_after_secs() -> u64 {
    5
}
fn default_shutdown_grace_secs() -> u64 {
    10
}
fn default_store_path() -> PathBuf {
    PathBuf::from("waybill.db")
}
fn default_idempotency_window_secs() -> u64 {
    86_400
}
fn default_pool_size() -> usize {
    16
}
fn default_group_commit_max() -> usize {
    512
}
fn default_retention_days() -> u32 {
    7
}
fn default_max_processing_failures() -> u32 {
    5
}
fn default_lease_margin_secs() -> u64 {
    30
}
fn default_plugins_dir() -> PathBuf {
    PathBuf::from("target/plugins")
}
fn default_cache_dir() -> PathBuf {
    PathBuf::from(".waybill/cache")
}
fn default_true() -> bool {
    true
}
fn default_quarantine_after() -> u32 {
    5
}
fn default_max_push_bytes() -> u64 {
    32 << 20
}
fn default_content_types() -> Vec<String> {
    vec!["application/json".to_owned()]
}
fn default_max_body_bytes() -> usize {
    1024 * 1024
}
fn default_max_bulk_lines() -> usize {
    1000
}
fn default_hmac_header() -> String {
    "x-acme-signature".to_owned()
}
fn default_tolerance_secs() -> u64 {
    300
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_max_in_flight() -> usize {
    8
}
fn default_max_attempts() -> u32 {
    8
}
fn default_base_ms() -> u64 {
    200
}
fn default_cap_ms() -> u64 {
    60_000
}
fn default_failure_threshold() -> u32 {
    5
}
fn default_open_secs() -> u64 {
    30
}
