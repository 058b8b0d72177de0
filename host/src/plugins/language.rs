//! The language a plugin component was written in, and the default limits
//! that follow from it.
//!
//! A component built from Rust (or any language compiled to Wasm) is a few
//! hundred KiB and needs a few MiB of linear memory; one built by
//! ComponentizeJS carries the SpiderMonkey engine and one built by
//! componentize-py carries CPython, pre-initialised: their first call
//! starts from a snapshot of tens of MiB, and they run the same mapping
//! several times slower (see "Plugins in JavaScript and Python" in the
//! README, measured by `cargo bench -p waybill --bench plugin_langs`). One
//! set of defaults cannot fit both, so the JavaScript and Python builds
//! (`plugins/sdk-js/build.mjs`, `plugins/sdk-python/build.py`) mark the
//! component with a top-level custom section `waybill-language`, and the
//! host reads it here. A component without it gets the host's defaults.
//! Limits an operator sets (`plugins.limits.<plugin>`) win over all of these.

use super::limits::Limits;
use serde::Serialize;
use std::time::Duration;

/// The custom section the JavaScript and Python builds add.
pub const LANGUAGE_SECTION: &str = "waybill-language";

/// What a plugin was written in, as far as its limits go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// Compiled to Wasm (Rust, the SDK crate): no `waybill-language` section.
    Compiled,
    /// ComponentizeJS (StarlingMonkey).
    Javascript,
    /// componentize-py (CPython).
    Python,
}

/// Linear memory a JavaScript plugin may use. Measured (README, "What a
/// language costs"): the engine's snapshot is 9 MiB after one call of the
/// portal mapping (a Rust plugin: 0.2 MiB) and a 1 MiB document takes it to
/// 14 MiB, so the 4 MiB input cap needs ~30 MiB before the mapping's own
/// objects; twice the compiled default leaves room for those.
const JS_MEMORY_BYTES: usize = 128 << 20;
/// Linear memory a Python plugin may use: the interpreter's snapshot is
/// 13 MiB after one call, 16 MiB after a 1 MiB document.
const PY_MEMORY_BYTES: usize = 128 << 20;
/// CPU deadline of one JavaScript call: the engine interprets (no JIT in
/// Wasm); a call is ~6x a Rust plugin's, a 1 MiB document took 51 ms
/// (Rust: 22 ms) on a debug host, so the 4 MiB cap ~0.2 s.
const JS_CPU: Duration = Duration::from_millis(1_000);
/// CPU deadline of one Python call: a call is ~16x a Rust plugin's, a 1 MiB
/// document took 0.11 s on a debug host.
const PY_CPU: Duration = Duration::from_millis(1_000);

impl Language {
    /// The language named by `bytes`' top-level `waybill-language` custom
    /// section; [`Language::Compiled`] without one (or with a value this host
    /// does not know).
    pub fn detect(bytes: &[u8]) -> Self {
        match top_level_custom_section(bytes, LANGUAGE_SECTION) {
            Some(b"javascript") => Self::Javascript,
            Some(b"python") => Self::Python,
            _ => Self::Compiled,
        }
    }

    /// The default limits of a plugin in this language, starting from the
    /// host's defaults for compiled plugins: JavaScript and Python get more
    /// memory and CPU time (never less than `compiled`), the same output,
    /// input and log budgets.
    pub fn default_limits(self, compiled: Limits) -> Limits {
        let (memory, cpu) = match self {
            Self::Compiled => return compiled,
            Self::Javascript => (JS_MEMORY_BYTES, JS_CPU),
            Self::Python => (PY_MEMORY_BYTES, PY_CPU),
        };
        Limits {
            memory_bytes: compiled.memory_bytes.max(memory),
            cpu: compiled.cpu.max(cpu),
            ..compiled
        }
    }
}

/// Reads an unsigned LEB128 `u32` at `*at`, advancing it.
fn leb_u32(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u32::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The payload of the first top-level custom section named `name` of a
/// component or module (nested modules are skipped whole: only the outer
/// section headers are read).
fn top_level_custom_section<'a>(bytes: &'a [u8], name: &str) -> Option<&'a [u8]> {
    if bytes.get(..4)? != b"\0asm" {
        return None;
    }
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let size = leb_u32(bytes, &mut at)? as usize;
        let end = at.checked_add(size)?;
        let payload = bytes.get(at..end)?;
        if id == 0 {
            let mut p = 0;
            let len = leb_u32(payload, &mut p)? as usize;
            let section_name = payload.get(p..p.checked_add(len)?)?;
            if section_name == name.as_bytes() {
                return payload.get(p + len..);
            }
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component header followed by the given sections.
    fn component(sections: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = b"\0asm\x0d\x00\x01\x00".to_vec();
        for (id, payload) in sections {
            out.push(*id);
            out.push(u8::try_from(payload.len()).unwrap_or(0));
            out.extend_from_slice(payload);
        }
        out
    }

    fn custom(name: &str, value: &str) -> (u8, Vec<u8>) {
        let mut payload = vec![u8::try_from(name.len()).unwrap_or(0)];
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(value.as_bytes());
        (0, payload)
    }

    #[test]
    fn the_marker_names_the_language_after_other_sections() {
        let js = component(&[
            (1, vec![0; 40]),
            custom("producers", "x"),
            custom(LANGUAGE_SECTION, "javascript"),
        ]);
        assert_eq!(Language::detect(&js), Language::Javascript);
        let py = component(&[custom(LANGUAGE_SECTION, "python")]);
        assert_eq!(Language::detect(&py), Language::Python);
    }

    #[test]
    fn no_marker_an_unknown_value_or_garbage_is_compiled() {
        assert_eq!(
            Language::detect(&component(&[(1, vec![7; 10])])),
            Language::Compiled
        );
        assert_eq!(
            Language::detect(&component(&[custom(LANGUAGE_SECTION, "cobol")])),
            Language::Compiled
        );
        assert_eq!(Language::detect(b"not wasm at all"), Language::Compiled);
        // A section claiming more bytes than there are.
        assert_eq!(
            Language::detect(b"\0asm\x0d\x00\x01\x00\x00\x7f\x01"),
            Language::Compiled
        );
        assert_eq!(Language::detect(&[]), Language::Compiled);
    }

    #[test]
    fn languages_get_more_memory_and_time_never_less() {
        let base = Limits::default();
        assert_eq!(Language::Compiled.default_limits(base), base);
        let js = Language::Javascript.default_limits(base);
        assert_eq!(js.memory_bytes, JS_MEMORY_BYTES);
        assert_eq!(js.cpu, JS_CPU);
        assert_eq!(js.output_bytes, base.output_bytes);
        let py = Language::Python.default_limits(base);
        assert_eq!(py.memory_bytes, PY_MEMORY_BYTES);
        let generous = Limits {
            memory_bytes: 1 << 30,
            ..base
        };
        assert_eq!(
            Language::Python.default_limits(generous).memory_bytes,
            1 << 30
        );
    }
}
