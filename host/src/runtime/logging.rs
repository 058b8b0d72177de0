//! Structured logs for the binaries: one JSON object per line on stderr,
//! filtered by `WAYBILL_LOG` (tracing's env-filter syntax). Shared by
//! `waybill` and `waybill-demo` so both log the same way.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `default` is the filter used when
/// `WAYBILL_LOG` is unset or invalid (e.g. `"info"`, or `"off"`).
pub fn init_tracing(default: &str) {
    let filter = EnvFilter::try_from_env("WAYBILL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .json()
        .init();
}
