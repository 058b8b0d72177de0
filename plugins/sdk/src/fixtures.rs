//! Golden fixtures: discovery, comparison and `BLESS=1` rewriting.
//!
//! A plugin's `fixtures/` holds `<case>.input.<ext>` beside either
//! `<case>.expected.json` (the outputs, or the violations of a validator) or
//! `<case>.error.json` (the typed error). An optional `<case>.call.json` sets
//! `kind`, `content_type`, `headers` and `config` for the call. The same
//! discovery and comparison serve the native runner here ([`run_native`]) and
//! the host's Wasm runner (`waybill plugin test`), so the two cannot disagree.
//!
//! Plugin tests also check golden files against the shared vendor samples:
//! [`assert_input_is`] keeps a case's input identical to a sample, and
//! [`recorded_outputs`] with [`ndjson_values`] let a downstream plugin's test
//! start from an upstream plugin's golden outputs (a chain, without Wasm).

use crate::{Document, Header, Message, Plugin, PluginError, PluginInfo, Role};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Call settings from `<case>.call.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSettings {
    /// Message kind; defaults to the plugin's first consumed kind.
    pub kind: Option<String>,
    /// Content type; defaults from the input's extension.
    pub content_type: Option<String>,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Plugin configuration for this call.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

/// One golden case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Case name (file stem before `.input`).
    pub name: String,
    /// The input file.
    pub input: PathBuf,
    /// Call settings.
    pub call: CallSettings,
    /// `<case>.expected.json` path (may not exist).
    pub expected_path: PathBuf,
    /// `<case>.error.json` path (may not exist).
    pub error_path: PathBuf,
}

impl Case {
    /// The message this case sends to a mapper of `info`.
    pub fn message(&self, info: &PluginInfo) -> Result<Message, String> {
        let body =
            std::fs::read(&self.input).map_err(|e| format!("{}: {e}", self.input.display()))?;
        let kind = self
            .call
            .kind
            .clone()
            .or_else(|| info.consumes.first().cloned())
            .unwrap_or_default();
        let content_type = self
            .call
            .content_type
            .clone()
            .unwrap_or_else(|| content_type_for(&self.input).to_string());
        Ok(Message {
            kind,
            content_type,
            body,
            headers: self
                .call
                .headers
                .iter()
                .map(|(k, v)| Header {
                    name: k.to_ascii_lowercase(),
                    value: v.clone(),
                })
                .collect(),
            correlation_id: format!("fixture-{}", self.name),
        })
    }

    /// The document this case sends to a validator of `info`.
    pub fn document(&self, info: &PluginInfo) -> Result<Document, String> {
        let body = std::fs::read_to_string(&self.input)
            .map_err(|e| format!("{}: {e}", self.input.display()))?;
        let schema_id = self
            .call
            .kind
            .clone()
            .or_else(|| info.consumes.first().cloned())
            .unwrap_or_default();
        Ok(Document { schema_id, body })
    }

    /// The configuration pairs for this call.
    pub fn config_pairs(&self) -> Vec<(String, String)> {
        self.call
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// The media type implied by an input file's extension.
pub fn content_type_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "json" => "application/json",
        "edi" | "x12" => "application/edi-x12",
        "xml" => "application/xml",
        "csv" => "text/csv",
        "ndjson" => "application/x-ndjson",
        _ => "application/octet-stream",
    }
}

/// Finds every case in `dir`, sorted by name.
pub fn discover(dir: &Path) -> Result<Vec<Case>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cases = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some((name, _ext)) = file.split_once(".input.") else {
            continue;
        };
        let call_path = dir.join(format!("{name}.call.json"));
        let call = if call_path.exists() {
            let text = std::fs::read_to_string(&call_path)
                .map_err(|e| format!("{}: {e}", call_path.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{}: line {}: {e}", call_path.display(), e.line()))?
        } else {
            CallSettings::default()
        };
        cases.push(Case {
            name: name.to_string(),
            input: path.clone(),
            call,
            expected_path: dir.join(format!("{name}.expected.json")),
            error_path: dir.join(format!("{name}.error.json")),
        });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// What a call produced, as the JSON the fixtures hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Outputs (mapper) or violations (validator), for `expected.json`.
    Ok(Value),
    /// The typed error, for `error.json`.
    Err(Value),
}

impl Outcome {
    /// Converts a mapper result.
    pub fn from_map(result: Result<Vec<crate::Output>, PluginError>) -> Self {
        match result {
            Ok(outputs) => Outcome::Ok(Value::Array(
                outputs
                    .into_iter()
                    .map(|o| {
                        let body = serde_json::from_str(&o.body).unwrap_or(Value::String(o.body));
                        serde_json::json!({"schema_id": o.schema_id, "business_key": o.business_key, "body": body})
                    })
                    .collect(),
            )),
            Err(e) => Outcome::Err(serde_json::to_value(e).unwrap_or(Value::Null)),
        }
    }

    /// Converts a validator result.
    pub fn from_validate(result: Result<Vec<crate::Violation>, PluginError>) -> Self {
        match result {
            Ok(v) => Outcome::Ok(serde_json::to_value(v).unwrap_or(Value::Null)),
            Err(e) => Outcome::Err(serde_json::to_value(e).unwrap_or(Value::Null)),
        }
    }
}

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Matched the golden file.
    Pass,
    /// `BLESS=1`: the golden file was rewritten.
    Blessed,
    /// Did not match; a readable explanation with a diff.
    Fail(String),
}

/// Whether `BLESS=1` is set.
pub fn blessing() -> bool {
    std::env::var("BLESS").is_ok_and(|v| v == "1")
}

/// Compares `actual` with the case's golden file, or rewrites it when `bless`.
pub fn check(case: &Case, actual: &Outcome, bless: bool) -> Verdict {
    let (want_path, other_path, value) = match actual {
        Outcome::Ok(v) => (&case.expected_path, &case.error_path, v),
        Outcome::Err(v) => (&case.error_path, &case.expected_path, v),
    };
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    if bless {
        let _ = std::fs::remove_file(other_path);
        return match std::fs::write(want_path, pretty) {
            Ok(()) => Verdict::Blessed,
            Err(e) => Verdict::Fail(format!("cannot write {}: {e}", want_path.display())),
        };
    }
    if !want_path.exists() {
        let what = if matches!(actual, Outcome::Ok(_)) {
            "outputs"
        } else {
            "an error"
        };
        let expected = if other_path.exists() {
            other_path.display().to_string()
        } else {
            "no golden file".into()
        };
        return Verdict::Fail(format!(
            "the plugin returned {what}, but the case expects {expected}; got:\n{pretty}"
        ));
    }
    let text = match std::fs::read_to_string(want_path) {
        Ok(t) => t,
        Err(e) => return Verdict::Fail(format!("{}: {e}", want_path.display())),
    };
    let expected: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Verdict::Fail(format!("{}: line {}: {e}", want_path.display(), e.line())),
    };
    if &expected == value {
        return Verdict::Pass;
    }
    let want = serde_json::to_string_pretty(&expected).unwrap_or_default() + "\n";
    let diff = similar::TextDiff::from_lines(&want, &pretty);
    let rendered = diff
        .unified_diff()
        .context_radius(3)
        .header(&want_path.display().to_string(), "actual")
        .to_string();
    Verdict::Fail(rendered)
}

/// Runs every case in `dir` against `P` compiled natively; panics listing the
/// failures. A plugin's `tests/golden.rs` is one call to this.
pub fn run_native<P: Plugin>(dir: impl AsRef<Path>) {
    let dir = dir.as_ref();
    let cases = discover(dir).unwrap_or_else(|e| panic!("fixtures: {e}"));
    assert!(!cases.is_empty(), "no fixtures in {}", dir.display());
    let info = P::describe();
    let bless = blessing();
    let mut failures = Vec::new();
    for case in &cases {
        let pairs = case.config_pairs();
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let outcome = crate::config::with_config(&borrowed, || match info.role {
            Role::Mapper => case.message(&info).map(|m| Outcome::from_map(P::map(&m))),
            Role::Validator => case
                .document(&info)
                .map(|d| Outcome::from_validate(P::validate(&d))),
        });
        match outcome {
            Err(e) => failures.push(format!("{}: {e}", case.name)),
            Ok(outcome) => {
                if let Verdict::Fail(why) = check(case, &outcome, bless) {
                    failures.push(format!("{}:\n{why}", case.name));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture cases failed in {}:\n{}",
        failures.len(),
        cases.len(),
        dir.display(),
        failures.join("\n")
    );
}

/// Panics unless the input of case `case` in `dir` is byte for byte the file
/// `sample`: a golden case built on a shared vendor sample cannot drift from
/// it. Both files must exist.
pub fn assert_input_is(dir: impl AsRef<Path>, case: &str, sample: impl AsRef<Path>) {
    let (dir, sample) = (dir.as_ref(), sample.as_ref());
    let cases = discover(dir).unwrap_or_else(|e| panic!("fixtures: {e}"));
    let Some(found) = cases.iter().find(|c| c.name == case) else {
        panic!("no case {case:?} in {}", dir.display());
    };
    let read =
        |path: &Path| std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        read(&found.input) == read(sample),
        "{} differs from {}",
        found.input.display(),
        sample.display()
    );
}

/// One output recorded in a mapper case's `expected.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedOutput {
    /// Schema id of the document.
    pub schema_id: String,
    /// Business key.
    pub business_key: String,
    /// The document.
    pub body: Value,
}

impl RecordedOutput {
    /// The message the host hands the next plugin of a chain: the document,
    /// its schema id as the kind, in JSON.
    pub fn to_message(&self) -> Message {
        Message::new(&self.schema_id, "application/json", self.body.to_string())
    }
}

/// The outputs recorded in the mapper golden file `path`
/// (`<case>.expected.json`), in order.
pub fn recorded_outputs(path: impl AsRef<Path>) -> Result<Vec<RecordedOutput>, String> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: line {}: {e}", path.display(), e.line()))
}

/// Every non-blank line of the NDJSON file `path`, parsed.
pub fn ndjson_values(path: impl AsRef<Path>) -> Result<Vec<Value>, String> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map_err(|e| format!("{}: line {}: {e}", path.display(), i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A scratch directory in the system temp dir, emptied first.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "waybill-sdk-fixtures-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn recorded_outputs_become_the_next_message() {
        let dir = scratch("recorded");
        let path = dir.join("sample.expected.json");
        std::fs::write(
            &path,
            r#"[{"schema_id": "customer@1.0", "business_key": "customer:C1", "body": {"customer_id": "C1"}}]"#,
        )
        .unwrap();
        let outputs = recorded_outputs(&path).unwrap();
        assert_eq!(outputs[0].business_key, "customer:C1");
        let msg = outputs[0].to_message();
        assert_eq!(msg.kind, "customer@1.0");
        assert_eq!(msg.content_type, "application/json");
        assert_eq!(msg.body, br#"{"customer_id":"C1"}"#);
        assert!(recorded_outputs(dir.join("missing.json")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ndjson_files_skip_blank_lines_and_name_bad_ones() {
        let dir = scratch("ndjson");
        let path = dir.join("a.ndjson");
        std::fs::write(&path, "{\"a\": 1}\n\n  \n{\"a\": 2}\n").unwrap();
        let values = ndjson_values(&path).unwrap();
        assert_eq!(
            values,
            [serde_json::json!({"a": 1}), serde_json::json!({"a": 2})]
        );
        std::fs::write(&path, "{\"a\": 1}\n{oops\n").unwrap();
        let err = ndjson_values(&path).unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn inputs_are_compared_with_their_sample() {
        let dir = scratch("sample");
        std::fs::write(dir.join("sample.input.ndjson"), "{}\n").unwrap();
        std::fs::write(dir.join("vendor.ndjson"), "{}\n").unwrap();
        std::fs::write(dir.join("other.ndjson"), "{} \n").unwrap();
        assert_input_is(&dir, "sample", dir.join("vendor.ndjson"));
        let differs = std::panic::catch_unwind(|| {
            assert_input_is(&dir, "sample", dir.join("other.ndjson"));
        });
        assert!(differs.is_err());
        let missing = std::panic::catch_unwind(|| {
            assert_input_is(&dir, "sample", dir.join("none.ndjson"));
        });
        assert!(missing.is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
