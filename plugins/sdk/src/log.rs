//! Structured logging through the host: records carry the plugin's name,
//! version and the message's correlation id once the host emits them.

/// Severity of a record; mirrors `log-level` in the WIT contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Very detailed.
    Trace,
    /// Diagnostic.
    Debug,
    /// Normal operation.
    Info,
    /// Something odd but handled.
    Warn,
    /// A failure.
    Error,
}

/// Whether a record at `level` would be emitted (the host's filter for
/// plugins, and the call's record budget): check it before building an
/// expensive record. Always `false` outside Wasm.
pub fn enabled(level: Level) -> bool {
    #[cfg(target_arch = "wasm32")]
    return crate::guest::imports::log_enabled(level);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = level;
        false
    }
}

/// Emits one record with key/value fields (nothing when the host would
/// drop it: the fields are not copied then).
pub fn log(level: Level, message: &str, fields: &[(&str, &str)]) {
    #[cfg(target_arch = "wasm32")]
    if crate::guest::imports::log_enabled(level) {
        crate::guest::imports::log(level, message, fields);
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (level, message, fields);
    }
}

/// Emits an `info` record.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    log(Level::Info, message, fields);
}

/// Emits a `warn` record.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    log(Level::Warn, message, fields);
}

/// Emits a `debug` record.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    log(Level::Debug, message, fields);
}
