//! `[server]` sub-tables of the listener edge: TLS certificates for the
//! partner and admin listeners, and the connection limits that keep one slow
//! or greedy client from holding the host (header, idle and body deadlines,
//! a cap on open connections).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `server.tls` / `server.admin_tls`: a PEM certificate chain and its key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerTls {
    /// PEM certificate chain, leaf first. Resolved against the config
    /// file's directory when relative.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1). Resolved like `cert_file`.
    pub key_file: PathBuf,
}

/// `server.limits`: how long a connection may take for each part of a
/// request, and how many connections are served at once (per listener).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerLimits {
    /// A request head must be complete within this time after the
    /// connection is ready for one (accept, or the end of the previous
    /// response); the TLS handshake has the same budget.
    #[serde(default = "default_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// A kept-alive connection with no request for this long is closed.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
    /// The whole request body must arrive within this time, else 408.
    #[serde(default = "default_body_read_timeout_ms")]
    pub body_read_timeout_ms: u64,
    /// Connections served at once per listener; further connections wait in
    /// the kernel's accept queue until one closes.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// HMAC signatures remembered per source to refuse replays; when this
    /// many are live, further signed requests get 503 until some expire.
    #[serde(default = "default_replay_cache_entries")]
    pub replay_cache_entries: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: default_header_read_timeout_ms(),
            idle_timeout_ms: default_idle_timeout_ms(),
            body_read_timeout_ms: default_body_read_timeout_ms(),
            max_connections: default_max_connections(),
            replay_cache_entries: default_replay_cache_entries(),
        }
    }
}

fn default_header_read_timeout_ms() -> u64 {
    10_000
}
fn default_idle_timeout_ms() -> u64 {
    5_000
}
fn default_body_read_timeout_ms() -> u64 {
    30_000
}
fn default_max_connections() -> usize {
    1024
}
fn default_replay_cache_entries() -> usize {
    100_000
}

#[cfg(test)]
#[path = "edge_tests.rs"]
mod edge_tests;
