//! Test-only plugin for the hot-swap, canary and shadow tests. Built five
//! ways by the xtask: v1 (default), v2 (`--features v2`), a broken variant
//! that fails every mapping and its own fixtures (`--features broken`), a
//! flaky one that passes its fixtures but refuses every input with
//! `"fail": true` (`--features flaky`, for the canary's automatic abort),
//! and a shadow candidate (`--features shadow`, 1.5.0) that maps like v1
//! except for planted differences: for a key starting `diff-` its
//! `input_bytes` is one more, for a key starting `fail-` it rejects the
//! message. Each output names the version that made it, so a test can
//! tell which version handled each call.

use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The probe.
pub struct SwapProbe;

const VERSION: &str = if cfg!(feature = "broken") {
    "3.0.0"
} else if cfg!(feature = "flaky") {
    "2.1.0"
} else if cfg!(feature = "shadow") {
    "1.5.0"
} else if cfg!(feature = "v2") {
    "2.0.0"
} else {
    "1.0.0"
};

impl Plugin for SwapProbe {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "swap-probe",
            VERSION,
            &["test.any", "test.swap-probe@1"],
            &["test.swap-probe@1", "vendor:test.sink@1"],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        if cfg!(feature = "broken") && input.kind == "test.any" {
            return Err(PluginError::invalid(
                "/",
                "broken-build",
                "this build of swap-probe cannot map anything",
            ));
        }
        if input.kind == "test.swap-probe@1" {
            // Outbound: wrap the canonical document for the test sink.
            let doc: serde_json::Value = input.json()?;
            let body = serde_json::json!({"delivered_by": VERSION, "doc": doc});
            return Ok(vec![Output::json(
                "vendor:test.sink@1",
                &input.correlation_id,
                &body,
            )?]);
        }
        if input.kind != "test.any" {
            return Err(if cfg!(feature = "broken") {
                PluginError::rejected("broken build")
            } else {
                PluginError::unsupported(format!("kind {} is not handled", input.kind))
            });
        }
        let payload: serde_json::Value =
            serde_json::from_slice(&input.body).unwrap_or(serde_json::Value::Null);
        if cfg!(feature = "flaky") && payload.get("fail") == Some(&serde_json::Value::Bool(true)) {
            return Err(PluginError::invalid(
                "/fail",
                "flaky-build",
                "this build of swap-probe refuses inputs marked to fail",
            ));
        }
        let key = payload
            .get("key")
            .and_then(|k| k.as_str())
            .unwrap_or(&input.correlation_id)
            .to_string();
        let mut input_bytes = input.body.len();
        if cfg!(feature = "shadow") {
            if key.starts_with("fail-") {
                return Err(PluginError::rejected(
                    "the shadow candidate rejects fail- keys",
                ));
            }
            if key.starts_with("diff-") {
                input_bytes += 1;
            }
        }
        let body =
            serde_json::json!({"version": VERSION, "input_bytes": input_bytes, "payload": payload});
        Ok(vec![Output::json("test.swap-probe@1", &key, &body)?])
    }
}

waybill_sdk::export!(SwapProbe);
