//! The one module that runs `bindgen!` against `wit/`: it owns the generated
//! types and converts them to and from the SDK's plain types, so the rest of
//! the host never touches generated code.
//!
//! It binds every contract version the host still accepts: the current one
//! (`wit/plugin.wit`) and each earlier minor, frozen under
//! `wit/compat/<version>/`, so a plugin a partner built before the contract
//! grew keeps loading without a rebuild. A minor only adds, so every
//! version's types are the current version's Rust types (`with` below);
//! what differs is the name of the exports (`waybill:plugin/mapper@0.1.0`)
//! and which host functions exist, so [`PluginPre`] finds the version a
//! component targets and [`Bindings`] calls through it.

use wasmtime::component::InstancePre;
use waybill_sdk as sdk;

/// The contract version plugins are built against today.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// The WIT package and world plugins built today target.
pub const WORLD_NAME: &str = "waybill:plugin/plugin@0.2.0";

/// Every contract version the host loads, newest first.
pub const CONTRACT_VERSIONS: &[&str] = &[CONTRACT_VERSION, "0.1.0"];

mod current {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit",
    });
}

mod v0_1 {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "../wit/compat/0.1.0",
        with: {
            "waybill:plugin/types@0.1.0": super::current::waybill::plugin::types,
        },
    });
}

// The host imports are linked by hand (`super::imports`), lifting lazily;
// only their argument types come from here.
pub(crate) use current::waybill::plugin::host::LogLevel;
use current::waybill::plugin::types as wit;

/// A component linked once, through the contract version it targets.
pub(crate) enum PluginPre<T: 'static> {
    /// Built against [`CONTRACT_VERSION`].
    Current(current::PluginPre<T>),
    /// Built against 0.1.0.
    V0_1(v0_1::PluginPre<T>),
}

impl<T: 'static> PluginPre<T> {
    /// Finds the contract version whose exports the component has, newest
    /// first; the error names every version tried.
    pub(crate) fn new(pre: InstancePre<T>) -> Result<Self, String> {
        let newest = match current::PluginPre::new(pre.clone()) {
            Ok(p) => return Ok(Self::Current(p)),
            Err(e) => e,
        };
        if let Ok(p) = v0_1::PluginPre::new(pre) {
            return Ok(Self::V0_1(p));
        }
        Err(format!(
            "the component implements none of the contract versions this host accepts ({}); against {CONTRACT_VERSION}: {newest:#}",
            CONTRACT_VERSIONS.join(", ")
        ))
    }

    /// The contract version the component was built against.
    pub(crate) fn contract(&self) -> &'static str {
        match self {
            Self::Current(_) => CONTRACT_VERSION,
            Self::V0_1(_) => "0.1.0",
        }
    }

    /// A fresh instance.
    pub(crate) fn instantiate(&self, store: &mut wasmtime::Store<T>) -> wasmtime::Result<Bindings> {
        Ok(match self {
            Self::Current(p) => Bindings::Current(p.instantiate(store)?),
            Self::V0_1(p) => Bindings::V0_1(p.instantiate(store)?),
        })
    }
}

/// One instance's exports, whichever contract version it targets.
pub(crate) enum Bindings {
    Current(current::Plugin),
    V0_1(v0_1::Plugin),
}

impl Bindings {
    pub(crate) fn call_describe<S: wasmtime::AsContextMut>(
        &self,
        store: S,
    ) -> wasmtime::Result<wit::PluginInfo> {
        match self {
            Self::Current(b) => b.waybill_plugin_describe().call_describe(store),
            Self::V0_1(b) => b.waybill_plugin_describe().call_describe(store),
        }
    }

    pub(crate) fn call_map_message<S: wasmtime::AsContextMut>(
        &self,
        store: S,
        input: &wit::Message,
    ) -> wasmtime::Result<Result<Vec<wit::Output>, wit::PluginError>> {
        match self {
            Self::Current(b) => b.waybill_plugin_mapper().call_map_message(store, input),
            Self::V0_1(b) => b.waybill_plugin_mapper().call_map_message(store, input),
        }
    }

    pub(crate) fn call_validate<S: wasmtime::AsContextMut>(
        &self,
        store: S,
        doc: &wit::Document,
    ) -> wasmtime::Result<Result<Vec<wit::Violation>, wit::PluginError>> {
        match self {
            Self::Current(b) => b.waybill_plugin_validator().call_validate(store, doc),
            Self::V0_1(b) => b.waybill_plugin_validator().call_validate(store, doc),
        }
    }
}
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
