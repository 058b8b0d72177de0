//! The one module that runs `bindgen!` against `wit/`: it owns the generated
//! types and converts them to and from the SDK's plain types, so the rest of
//! the host never touches generated code.

use waybill_sdk as sdk;

/// The WIT package and world every plugin targets.
pub const WORLD_NAME: &str = "waybill:plugin/plugin@0.1.0";

mod generated {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
    });
}

pub(crate) use generated::Plugin as Bindings;
pub(crate) use generated::PluginPre;
// The host imports are linked by hand (`super::imports`), lifting lazily;
// only their argument types come from here.
pub(crate) use generated::waybill::plugin::host::LogLevel;
use generated::waybill::plugin::types as wit;

pub(crate) fn message_to_wit(msg: &sdk::Message) -> wit::Message {
    wit::Message {
        kind: msg.kind.clone(),
        content_type: msg.content_type.clone(),
        body: msg.body.clone(),
        headers: msg
            .headers
            .iter()
            .map(|h| wit::Header {
                name: h.name.clone(),
                value: h.value.clone(),
            })
            .collect(),
        correlation_id: msg.correlation_id.clone(),
    }
}

pub(crate) fn document_to_wit(doc: &sdk::Document) -> wit::Document {
    wit::Document {
        schema_id: doc.schema_id.clone(),
        body: doc.body.clone(),
    }
}

pub(crate) fn output_from_wit(o: wit::Output) -> sdk::Output {
    sdk::Output {
        schema_id: o.schema_id,
        business_key: o.business_key,
        body: o.body,
    }
}

pub(crate) fn violation_from_wit(v: wit::Violation) -> sdk::Violation {
    sdk::Violation {
        path: v.path,
        code: v.code,
        message: v.message,
    }
}

pub(crate) fn error_from_wit(e: wit::PluginError) -> sdk::PluginError {
    match e {
        wit::PluginError::InvalidInput(vs) => sdk::PluginError::InvalidInput {
            violations: vs.into_iter().map(violation_from_wit).collect(),
        },
        wit::PluginError::Unsupported(message) => sdk::PluginError::Unsupported { message },
        wit::PluginError::Rejected(message) => sdk::PluginError::Rejected { message },
    }
}

pub(crate) fn info_from_wit(i: wit::PluginInfo) -> sdk::PluginInfo {
    sdk::PluginInfo {
        name: i.name,
        version: i.version,
        role: match i.role {
            wit::PluginRole::Mapper => sdk::Role::Mapper,
            wit::PluginRole::Validator => sdk::Role::Validator,
        },
        consumes: i.consumes,
        produces: i.produces,
        config_keys: i.config_keys,
    }
}
