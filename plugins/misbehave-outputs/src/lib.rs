//! Test-only plugin that hands the host too much: more outputs or violations
//! than the per-call budget allows, lists whose entries all alias one huge
//! string (a host that lifts them naively into owned strings would allocate
//! entries x string size), log lines of many megabytes and log records with
//! aliased fields. The host must fail only that call, with a typed limit
//! error, and keep its memory bounded.
//!
//! The message body (or document body, for `validate`) says how much, as
//! JSON: `{"outputs": N, "body_bytes": B, "aliased": true}` for
//! `test.outputs` (and for `validate` of a document whose schema id is
//! `test.violations`), `{"message_bytes": M, "fields": F, "field_bytes": B,
//! "aliased": true}` for `test.log`, which logs one record and then returns
//! one small output saying what `log-enabled` answered before it logged.
//!
//! Aliased lists are only sound to hand over when the host refuses them: the
//! guest's post-return would free the shared buffer once per entry. Tests use
//! them only above the budget.
//!
//! Any other kind gets a typed `unsupported` error instead, so the golden
//! runner (which walks every plugin) has a harmless case to run.
#![allow(unsafe_code)]

use serde::Deserialize;
use waybill_sdk::{Document, Message, Output, Plugin, PluginError, PluginInfo, Violation};

/// The kind that returns many or large outputs.
pub const OUTPUTS: &str = "test.outputs";
/// The kind that logs one large record.
pub const LOG: &str = "test.log";
/// The schema id whose documents get many or large violations.
pub const VIOLATIONS: &str = "test.violations";

/// How much to hand the host, read from the body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Amounts {
    outputs: usize,
    body_bytes: usize,
    message_bytes: usize,
    fields: usize,
    field_bytes: usize,
    aliased: bool,
}

impl Amounts {
    fn parse(body: &[u8]) -> Result<Self, PluginError> {
        serde_json::from_slice(body).map_err(|e| PluginError::rejected(format!("bad amounts: {e}")))
    }
}

/// `n` strings of `bytes` bytes each: `n` copies, or `n` strings that all
/// point at one leaked buffer.
fn strings(n: usize, bytes: usize, aliased: bool) -> Vec<String> {
    if bytes == 0 {
        return vec![String::new(); n];
    }
    if !aliased {
        return vec!["x".repeat(bytes); n];
    }
    let shared: &'static mut str = Box::leak("x".repeat(bytes).into_boxed_str());
    let (ptr, len) = (shared.as_mut_ptr(), shared.len());
    (0..n)
        // SAFETY: the buffer is leaked, so it outlives every alias; the
        // aliases are handed to the host and never mutated. They are freed
        // only by the guest's post-return, which runs only if the host
        // accepts the list (see the crate docs).
        .map(|_| unsafe { String::from_raw_parts(ptr, len, len) })
        .collect()
}

/// Hands the host whatever its input asks for.
pub struct MisbehaveOutputs;

impl Plugin for MisbehaveOutputs {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "misbehave-outputs",
            "1.0.0",
            &[OUTPUTS, LOG],
            &["shipment-event@1.0"],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        match input.kind.as_str() {
            OUTPUTS => {
                let a = Amounts::parse(&input.body)?;
                Ok(strings(a.outputs, a.body_bytes, a.aliased)
                    .into_iter()
                    .map(|body| Output {
                        schema_id: String::new(),
                        business_key: String::new(),
                        body,
                    })
                    .collect())
            }
            LOG => {
                let a = Amounts::parse(&input.body)?;
                use waybill_sdk::log::{Level, enabled};
                let body = serde_json::json!({"log_enabled": {
                    "debug": enabled(Level::Debug),
                    "info": enabled(Level::Info),
                }});
                log_once(&a);
                Ok(vec![Output {
                    schema_id: "shipment-event@1.0".into(),
                    business_key: "logged".into(),
                    body: body.to_string(),
                }])
            }
            other => Err(PluginError::unsupported(format!(
                "misbehave-outputs does not misbehave on {other:?}"
            ))),
        }
    }

    fn validate(doc: &Document) -> Result<Vec<Violation>, PluginError> {
        if doc.schema_id != VIOLATIONS {
            return Err(PluginError::unsupported(format!(
                "misbehave-outputs does not misbehave on {:?}",
                doc.schema_id
            )));
        }
        let a = Amounts::parse(doc.body.as_bytes())?;
        Ok(strings(a.outputs, a.body_bytes, a.aliased)
            .into_iter()
            .map(|message| Violation {
                path: String::new(),
                code: String::new(),
                message,
            })
            .collect())
    }
}

/// One log record with a message of `message_bytes` and `fields` fields of
/// `field_bytes` each, straight through the host import (the SDK's helper
/// copies every field, which would defeat aliasing).
fn log_once(a: &Amounts) {
    let message = "m".repeat(a.message_bytes);
    let keys = strings(a.fields, 8, false);
    let values = strings(a.fields, a.field_bytes, a.aliased);
    let fields: Vec<(String, String)> = keys.into_iter().zip(values).collect();
    #[cfg(target_arch = "wasm32")]
    waybill_sdk::guest::waybill::plugin::host::log(
        waybill_sdk::guest::waybill::plugin::host::LogLevel::Info,
        &message,
        &fields,
    );
    #[cfg(not(target_arch = "wasm32"))]
    let _ = &message;
    // Aliased values must not be freed once per alias.
    std::mem::forget(fields);
}

waybill_sdk::export!(MisbehaveOutputs);
