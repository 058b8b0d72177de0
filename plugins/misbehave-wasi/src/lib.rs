//! Test-only plugin that probes the WASI sandbox from inside `map` on a
//! `test.any` message: it tries the filesystem, the environment, the network
//! and (last) the clocks, and reports what happened as its output instead of
//! failing, so a host test can assert that every attempt was denied.
//!
//! Output: one document, schema id `test.wasi-probe@1`, body
//! `{"fs": ..., "env": ..., "net": ..., "clock": ...}`. Each value is a string
//! of `; `-separated attempt results, each `"<attempt>: denied (<error>)"` or
//! `"<attempt>: DATA <what was obtained>"`, so "no value contains `DATA`" is
//! the assertion that nothing leaked. The clock cannot fail through a
//! `Result`: its result is `"system: <seconds since the epoch>"` (a host that
//! grants no real clock gives a deterministic value such as 0, or traps) and
//! `"monotonic: <nanoseconds elapsed between two readings>"`. It runs last so
//! the other results are recorded even if the host traps on it — in that case
//! the call fails and the output is lost, which the host test also accepts.
//!
//! Any other kind gets a typed `unsupported` error instead, so the golden
//! runner (which walks every plugin) has a harmless case to run.

use serde::Serialize;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The only kind this plugin probes on.
pub const KIND: &str = "test.any";
/// Schema id of the probe report.
pub const PROBE: &str = "test.wasi-probe@1";

/// Probes the sandbox when mapping.
pub struct MisbehaveWasi;

/// What each attempt gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    /// Filesystem attempts.
    pub fs: String,
    /// Environment attempts.
    pub env: String,
    /// Network attempt.
    pub net: String,
    /// Clock readings.
    pub clock: String,
}

impl Plugin for MisbehaveWasi {
    fn describe() -> PluginInfo {
        // The probe report's schema id is listed too: the contract says every
        // output's schema id is one `describe` lists.
        PluginInfo::mapper(
            "misbehave-wasi",
            "1.0.0",
            &[KIND],
            &["shipment-event@1.0", PROBE],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if input.kind != KIND {
            return Err(PluginError::unsupported(format!(
                "misbehave-wasi only probes on {KIND}, not {:?}",
                input.kind
            )));
        }
        let fs = [probe_read_file("/etc/passwd"), probe_read_dir(".")].join("; ");
        let env = [probe_env_var("HOME"), probe_env_count()].join("; ");
        let net = probe_connect("127.0.0.1:80");
        // Last: may trap if the host links a trapping clock.
        let clock = probe_clocks();
        let report = ProbeReport {
            fs,
            env,
            net,
            clock,
        };
        Ok(vec![Output::json(PROBE, "wasi-probe", &report)?])
    }
}

waybill_sdk::export!(MisbehaveWasi);

fn denied(what: &str, err: impl std::fmt::Display) -> String {
    format!("{what}: denied ({err})")
}

fn probe_read_file(path: &str) -> String {
    let what = format!("read {path}");
    match std::fs::read_to_string(path) {
        Ok(text) => format!("{what}: DATA {} bytes", text.len()),
        Err(e) => denied(&what, e),
    }
}

fn probe_read_dir(path: &str) -> String {
    let what = format!("list {path}");
    match std::fs::read_dir(path) {
        Ok(entries) => format!("{what}: DATA {} entries", entries.count()),
        Err(e) => denied(&what, e),
    }
}

fn probe_env_var(name: &str) -> String {
    let what = format!("env {name}");
    match std::env::var(name) {
        Ok(value) => format!("{what}: DATA {} chars", value.len()),
        Err(e) => denied(&what, e),
    }
}

fn probe_env_count() -> String {
    match std::env::vars_os().count() {
        0 => denied("env vars", "0 variables visible"),
        n => format!("env vars: DATA {n} variables"),
    }
}

fn probe_connect(addr: &str) -> String {
    let what = format!("connect {addr}");
    match std::net::TcpStream::connect(addr) {
        Ok(_) => format!("{what}: DATA connected"),
        Err(e) => denied(&what, e),
    }
}

fn probe_clocks() -> String {
    let system = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => format!("system: {}", since.as_secs()),
        Err(e) => format!("system: before the epoch ({e})"),
    };
    let first = std::time::Instant::now();
    let second = std::time::Instant::now();
    let monotonic = format!(
        "monotonic: {}",
        second.saturating_duration_since(first).as_nanos()
    );
    format!("{system}; {monotonic}")
}
