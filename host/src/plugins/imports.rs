//! The host imports a plugin may call (`log`, `config-get`, `log-enabled`), linked by hand
//! rather than through `bindgen!` so their arguments stay in the guest's
//! memory (`WasmStr`, `WasmList`) and the host copies only what it keeps: a
//! record's message and first fields, each truncated with a marker. Bytes
//! passed to `log` count against the call's log budget; a call over it fails
//! with a typed log-limit error (see [`super::call`]).
//!
//! They are linked once per contract version the host accepts
//! ([`CONTRACT_VERSIONS`]), each version with the functions it has, so a
//! plugin built against an earlier minor finds exactly what it imports.

use super::state::CallState;
use super::world::{CONTRACT_VERSIONS, LogLevel};
use std::borrow::Cow;
use std::fmt::Write as _;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, WasmList, WasmStr};

/// The contract version that added `log-enabled`; earlier ones lack it.
const LOG_ENABLED_SINCE: &str = "0.2.0";

/// Longest message kept of one record, bytes.
pub(crate) const MAX_MESSAGE_BYTES: usize = 4 << 10;
/// Fields kept of one record; further ones are counted, not read.
pub(crate) const MAX_FIELDS: usize = 32;
/// Longest field name and value kept, bytes.
const MAX_KEY_BYTES: usize = 128;
const MAX_VALUE_BYTES: usize = 1 << 10;
/// Longest rendering of a record's fields, bytes.
const MAX_RENDERED_FIELDS_BYTES: usize = 4 << 10;

/// Links the host interface (and the type-only `types` interface) of every
/// contract version the host accepts.
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    for version in CONTRACT_VERSIONS {
        add_version(linker, version)?;
    }
    Ok(())
}

fn add_version(linker: &mut Linker<CallState>, version: &str) -> wasmtime::Result<()> {
    linker.instance(&format!("waybill:plugin/types@{version}"))?;
    let mut host = linker.instance(&format!("waybill:plugin/host@{version}"))?;
    host.func_wrap(
        "log",
        |store: StoreContextMut<'_, CallState>,
         (level, message, fields): (LogLevel, WasmStr, WasmList<(WasmStr, WasmStr)>)| {
            log(store, level, &message, &fields)
        },
    )?;
    host.func_wrap(
        "config-get",
        |store: StoreContextMut<'_, CallState>, (key,): (WasmStr,)| {
            let key = key.to_str(&store)?;
            Ok((store.data().config_value(&key),))
        },
    )?;
    if semver_at_least(version, LOG_ENABLED_SINCE) {
        host.func_wrap(
            "log-enabled",
            |store: StoreContextMut<'_, CallState>, (level,): (LogLevel,)| {
                Ok((store.data().log_records_left() && level_enabled(level),))
            },
        )?;
    }
    Ok(())
}

/// Whether `version` (`MAJOR.MINOR.PATCH`) is `min` or later.
fn semver_at_least(version: &str, min: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(version) >= parse(min)
}

/// Whether the host's log filter lets a plugin record at `level` through.
fn level_enabled(level: LogLevel) -> bool {
    use tracing::Level;
    match level {
        LogLevel::Trace => tracing::enabled!(target: "waybill.plugin", Level::TRACE),
        LogLevel::Debug => tracing::enabled!(target: "waybill.plugin", Level::DEBUG),
        LogLevel::Info => tracing::enabled!(target: "waybill.plugin", Level::INFO),
        LogLevel::Warn => tracing::enabled!(target: "waybill.plugin", Level::WARN),
        LogLevel::Error => tracing::enabled!(target: "waybill.plugin", Level::ERROR),
    }
}

/// A call's log budget ran out; the call traps with this and the host
/// reports it as a log limit.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("plugin passed {attempted} bytes to log in one call, budget {budget} bytes")]
pub(crate) struct LogBudgetExceeded {
    /// Bytes passed so far, this record included (as far as it was read).
    pub(crate) attempted: usize,
    /// The call's budget.
    pub(crate) budget: usize,
}

fn log(
    mut store: StoreContextMut<'_, CallState>,
    level: LogLevel,
    message: &WasmStr,
    fields: &WasmList<(WasmStr, WasmStr)>,
) -> wasmtime::Result<()> {
    // Records past the per-call count are dropped unread: they cost nothing.
    if !store.data_mut().take_log_record() {
        return Ok(());
    }
    let budget = store.data().log_budget();
    let mut passed = store.data().log_bytes_passed();
    let over = |passed: usize| LogBudgetExceeded {
        attempted: passed,
        budget,
    };

    let (len, kept_message) = {
        let text = message.to_str(&store)?;
        (text.len(), capped(&text, MAX_MESSAGE_BYTES).into_owned())
    };
    passed = passed.saturating_add(len);
    if passed > budget {
        return Err(store.data_mut().log_budget_hit(over(passed)).into());
    }

    let mut rendered = String::new();
    let shown = fields.len().min(MAX_FIELDS);
    for i in 0..shown {
        let Some(pair) = fields.get(&mut store, i) else {
            break;
        };
        let (key, value) = pair?;
        let within = {
            let key = key.to_str(&store)?;
            let value = value.to_str(&store)?;
            passed = passed.saturating_add(key.len() + value.len());
            let within = passed <= budget;
            if within && rendered.len() < MAX_RENDERED_FIELDS_BYTES {
                let _ = write!(
                    rendered,
                    "{}={:?} ",
                    capped(&key, MAX_KEY_BYTES),
                    capped(&value, MAX_VALUE_BYTES)
                );
            }
            within
        };
        if !within {
            return Err(store.data_mut().log_budget_hit(over(passed)).into());
        }
    }
    let mut rendered = capped(rendered.trim_end(), MAX_RENDERED_FIELDS_BYTES).into_owned();
    if fields.len() > shown {
        let _ = write!(rendered, " …[{} more fields dropped]", fields.len() - shown);
    }

    let state = store.data_mut();
    state.set_log_bytes_passed(passed);
    emit(
        state.plugin(),
        state.correlation_id(),
        level,
        &kept_message,
        &rendered,
    );
    Ok(())
}

fn emit(plugin: &str, cid: &str, level: LogLevel, message: &str, fields: &str) {
    match level {
        LogLevel::Trace => {
            tracing::trace!(target: "waybill.plugin", plugin, correlation_id = %cid, fields = %fields, "{message}")
        }
        LogLevel::Debug => {
            tracing::debug!(target: "waybill.plugin", plugin, correlation_id = %cid, fields = %fields, "{message}")
        }
        LogLevel::Info => {
            tracing::info!(target: "waybill.plugin", plugin, correlation_id = %cid, fields = %fields, "{message}")
        }
        LogLevel::Warn => {
            tracing::warn!(target: "waybill.plugin", plugin, correlation_id = %cid, fields = %fields, "{message}")
        }
        LogLevel::Error => {
            tracing::error!(target: "waybill.plugin", plugin, correlation_id = %cid, fields = %fields, "{message}")
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, with a marker
/// saying how many bytes were cut.
pub(crate) fn capped(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!(
        "{}…[truncated {} bytes]",
        &text[..cut],
        text.len() - cut
    ))
}

#[cfg(test)]
mod tests {
    use super::{capped, semver_at_least};

    #[test]
    fn log_enabled_is_linked_from_0_2_0_on() {
        assert!(!semver_at_least("0.1.0", "0.2.0"));
        assert!(semver_at_least("0.2.0", "0.2.0"));
        assert!(semver_at_least("0.10.0", "0.2.0"));
        assert!(semver_at_least("1.0.0", "0.2.0"));
    }

    #[test]
    fn short_text_is_kept_as_is() {
        assert_eq!(capped("hello", 5), "hello");
    }

    #[test]
    fn long_text_is_cut_with_a_marker_naming_the_cut() {
        let long = "a".repeat(10_000);
        let kept = capped(&long, 4096);
        assert!(kept.starts_with(&"a".repeat(4096)));
        assert!(kept.ends_with("…[truncated 5904 bytes]"), "{kept}");
        assert_eq!(kept.len(), 4096 + "…[truncated 5904 bytes]".len());
    }

    #[test]
    fn cut_never_splits_a_character() {
        // 'é' is two bytes: a cut at 3 would fall inside the second one.
        let kept = capped("ééé", 3);
        assert_eq!(kept, "é…[truncated 4 bytes]");
    }
}
