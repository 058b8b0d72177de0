//! Test-only plugin built against the previous contract,
//! `waybill:plugin@0.1.0` (frozen in `wit/compat/0.1.0`), with the bindings
//! generated straight from that file rather than through the SDK (which
//! follows the current contract). It is what a partner's plugin built
//! before the contract's last minor looks like: the host must still load,
//! describe, call and log through it. Each output says which contract made
//! it.
#![cfg(target_arch = "wasm32")]
#![allow(unsafe_code, missing_docs)]

wit_bindgen::generate!({
    world: "plugin",
    path: "../../wit/compat/0.1.0",
});

use exports::waybill::plugin::{describe, mapper, validator};
use waybill::plugin::host;
use waybill::plugin::types::{
    Document, Message, Output, PluginError, PluginInfo, PluginRole, Violation,
};

struct Probe;

impl describe::Guest for Probe {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "contract-v0-1-probe".into(),
            version: "0.1.0".into(),
            role: PluginRole::Mapper,
            consumes: vec!["test.any".into()],
            produces: vec!["test.contract-probe@1".into()],
            config_keys: vec!["greeting".into()],
        }
    }
}

impl mapper::Guest for Probe {
    fn map_message(input: Message) -> Result<Vec<Output>, PluginError> {
        let payload: serde_json::Value = serde_json::from_slice(&input.body).map_err(|e| {
            PluginError::InvalidInput(vec![Violation {
                path: "/".into(),
                code: "malformed-json".into(),
                message: e.to_string(),
            }])
        })?;
        let key = payload
            .get("key")
            .and_then(|k| k.as_str())
            .unwrap_or(&input.correlation_id)
            .to_string();
        host::log(
            host::LogLevel::Info,
            "mapped by the 0.1.0 contract",
            &[("key".into(), key.clone())],
        );
        let body = serde_json::json!({
            "contract": "0.1.0",
            "greeting": host::config_get("greeting"),
            "payload": payload,
        });
        Ok(vec![Output {
            schema_id: "test.contract-probe@1".into(),
            business_key: key,
            body: body.to_string(),
        }])
    }
}

impl validator::Guest for Probe {
    fn validate(_doc: Document) -> Result<Vec<Violation>, PluginError> {
        Err(PluginError::Unsupported(
            "contract-v0-1-probe is a mapper".into(),
        ))
    }
}

export!(Probe);
