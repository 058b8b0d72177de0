//! The only place that touches `wit-bindgen`: generates the guest side of the
//! `waybill:plugin` world and adapts any [`Plugin`](crate::Plugin) to it.
#![allow(unsafe_code, missing_docs)]

use std::marker::PhantomData;

wit_bindgen::generate!({
    world: "plugin",
    // The SDK's own copy of `wit/` (checked equal by `tests/wit_copy.rs`), so
    // the crate builds outside this repository.
    path: "wit",
    pub_export_macro: true,
    export_macro_name: "export_bindings",
    default_bindings_module: "waybill_sdk::guest",
});

use exports::waybill::plugin::{describe, mapper, validator};
use waybill::plugin::types as wit;

pub use crate::__export_plugin as export_plugin;

/// Adapts a [`Plugin`](crate::Plugin) to the generated guest traits.
pub struct Adapter<P>(PhantomData<P>);

impl<P: crate::Plugin> describe::Guest for Adapter<P> {
    fn describe() -> wit::PluginInfo {
        let info = P::describe();
        wit::PluginInfo {
            name: info.name,
            version: info.version,
            role: match info.role {
                crate::Role::Mapper => wit::PluginRole::Mapper,
                crate::Role::Validator => wit::PluginRole::Validator,
            },
            consumes: info.consumes,
            produces: info.produces,
            config_keys: info.config_keys,
        }
    }
}

impl<P: crate::Plugin> mapper::Guest for Adapter<P> {
    fn map_message(input: wit::Message) -> Result<Vec<wit::Output>, wit::PluginError> {
        let msg = crate::Message {
            kind: input.kind,
            content_type: input.content_type,
            body: input.body,
            headers: input
                .headers
                .into_iter()
                .map(|h| crate::Header {
                    name: h.name,
                    value: h.value,
                })
                .collect(),
            correlation_id: input.correlation_id,
        };
        P::map(&msg)
            .map(|outs| {
                outs.into_iter()
                    .map(|o| wit::Output {
                        schema_id: o.schema_id,
                        business_key: o.business_key,
                        body: o.body,
                    })
                    .collect()
            })
            .map_err(to_wit_error)
    }
}

impl<P: crate::Plugin> validator::Guest for Adapter<P> {
    fn validate(doc: wit::Document) -> Result<Vec<wit::Violation>, wit::PluginError> {
        let doc = crate::Document {
            schema_id: doc.schema_id,
            body: doc.body,
        };
        P::validate(&doc)
            .map(|vs| vs.into_iter().map(to_wit_violation).collect())
            .map_err(to_wit_error)
    }
}

fn to_wit_violation(v: crate::Violation) -> wit::Violation {
    wit::Violation {
        path: v.path,
        code: v.code,
        message: v.message,
    }
}

fn to_wit_error(e: crate::PluginError) -> wit::PluginError {
    match e {
        crate::PluginError::InvalidInput { violations } => {
            wit::PluginError::InvalidInput(violations.into_iter().map(to_wit_violation).collect())
        }
        crate::PluginError::Unsupported { message } => wit::PluginError::Unsupported(message),
        crate::PluginError::Rejected { message } => wit::PluginError::Rejected(message),
    }
}

/// Host imports, wrapped for [`crate::log`] and [`crate::config`].
pub(crate) mod imports {
    use super::waybill::plugin::host;

    fn wit_level(level: crate::log::Level) -> host::LogLevel {
        match level {
            crate::log::Level::Trace => host::LogLevel::Trace,
            crate::log::Level::Debug => host::LogLevel::Debug,
            crate::log::Level::Info => host::LogLevel::Info,
            crate::log::Level::Warn => host::LogLevel::Warn,
            crate::log::Level::Error => host::LogLevel::Error,
        }
    }

    pub fn log_enabled(level: crate::log::Level) -> bool {
        host::log_enabled(wit_level(level))
    }

    pub fn log(level: crate::log::Level, message: &str, fields: &[(&str, &str)]) {
        let level = wit_level(level);
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        host::log(level, message, &fields);
    }

    pub fn config_get(key: &str) -> Option<String> {
        host::config_get(key)
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin {
    ($plugin:ty) => {
        type __WaybillPluginExport = $crate::guest::Adapter<$plugin>;
        $crate::guest::export_bindings!(__WaybillPluginExport with_types_in $crate::guest);
    };
}
