//! Structured logs for the binaries, on stderr, filtered by `WAYBILL_LOG`
//! (tracing's env-filter syntax). `WAYBILL_LOG_FORMAT` picks the shape:
//! `json` (the default: one object per line, for a log pipeline) or `text`
//! (for a person at a terminal). Every line logged while a message is
//! handled carries the fields of the spans it is in, innermost last:
//! `correlation_id` and `source` (ingest, processing), `route` and
//! `plugin` (`name@version`, mapping), `route`, `target` and `plugin`
//! (each delivery attempt); in JSON they are merged into the line's
//! `span` object (innermost span wins) and listed per span in `spans`.
//! Shared by `waybill` and `waybill-demo` so both log the same way.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// Reads `WAYBILL_LOG_FORMAT`: unset means JSON; an unknown value is an
    /// error that names the variable and the values it takes.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("WAYBILL_LOG_FORMAT") {
            Err(_) => Ok(Self::Json),
            Ok(v) => Self::parse(&v),
        }
    }

    fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            other => Err(format!(
                "WAYBILL_LOG_FORMAT={other:?}: expected \"json\" or \"text\""
            )),
        }
    }
}

/// Installs the global subscriber; `default` is the filter used when
/// `WAYBILL_LOG` is unset or invalid (e.g. `"info"`, or `"off"`). Fails
/// only on a bad `WAYBILL_LOG_FORMAT`.
pub fn init_tracing(default: &str) -> Result<(), String> {
    let format = LogFormat::from_env()?;
    let filter = EnvFilter::try_from_env("WAYBILL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
        LogFormat::Text => builder.with_ansi(false).init(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::LogFormat;

    #[test]
    fn the_format_is_json_or_text_and_anything_else_is_named() {
        assert_eq!(LogFormat::parse("json"), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse("TEXT"), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(""), Ok(LogFormat::Json));
        let err = LogFormat::parse("xml").expect_err("unknown");
        assert!(err.contains("WAYBILL_LOG_FORMAT=\"xml\""), "{err}");
        assert!(err.contains("\"json\" or \"text\""), "{err}");
    }
}
