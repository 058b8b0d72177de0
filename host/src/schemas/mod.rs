//! Canonical schemas: the registry of versioned JSON Schemas loaded from
//! `schemas/<entity>/<major>.<minor>.json`, compiled once and used to
//! validate every canonical document, the compatibility checker that keeps a
//! new minor backward compatible, and plugin contract checks.
//!
//! - [`SchemaRegistry`]: load, validate, pins, deprecations.
//! - [`check_compatible`] / [`check_directory`]: breaking changes between minors.
//! - [`check_plugin_contract`]: a plugin's declared schemas exist and its
//!   golden fixtures' outputs validate.

mod compat;
mod compat_keywords;
mod compat_structure;
mod contract;
mod directory;
mod error;
mod id;
mod registry;

#[cfg(test)]
mod compat_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod registry_tests;

pub use compat::{BreakingChange, check_compatible, kind};
pub use contract::{ContractReport, check_plugin_contract, is_canonical, today};
pub use directory::check_directory;
pub use error::SchemaError;
pub use id::{SchemaId, SchemaIdError, SchemaPin};
pub use registry::{CompiledSchema, Deprecation, SchemaRegistry, SchemaViolation};
