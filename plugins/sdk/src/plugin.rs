//! The trait a plugin implements: one function per capability.

use crate::{Document, Message, Output, PluginError, Violation};
use serde::{Deserialize, Serialize};

/// What role a plugin plays; mirrors `plugin-role` in the WIT contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Turns messages into documents.
    Mapper,
    /// Checks documents against business rules.
    Validator,
}

/// A plugin's description of itself; mirrors `plugin-info` in the WIT contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Stable plugin name, e.g. `acme-tms-milestone`.
    pub name: String,
    /// Semantic version of this build.
    pub version: String,
    /// Mapper or validator.
    pub role: Role,
    /// Message kinds (mappers) or schema ids (validators) accepted.
    pub consumes: Vec<String>,
    /// Schema ids produced (mappers).
    pub produces: Vec<String>,
    /// Configuration keys read.
    pub config_keys: Vec<String>,
}

impl PluginInfo {
    /// A mapper consuming `consumes` and producing `produces`.
    pub fn mapper(name: &str, version: &str, consumes: &[&str], produces: &[&str]) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            role: Role::Mapper,
            consumes: consumes.iter().map(|s| s.to_string()).collect(),
            produces: produces.iter().map(|s| s.to_string()).collect(),
            config_keys: Vec::new(),
        }
    }

    /// A validator of documents with the given schema ids.
    pub fn validator(name: &str, version: &str, consumes: &[&str]) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            role: Role::Validator,
            consumes: consumes.iter().map(|s| s.to_string()).collect(),
            produces: Vec::new(),
            config_keys: Vec::new(),
        }
    }

    /// Declares the configuration keys the plugin reads.
    pub fn with_config_keys(mut self, keys: &[&str]) -> Self {
        self.config_keys = keys.iter().map(|s| s.to_string()).collect();
        self
    }
}

/// Implement this for one type and export it with [`crate::export!`].
///
/// Plugins must be deterministic: no clocks, randomness or global state.
pub trait Plugin {
    /// Name, version, role and what the plugin consumes and produces.
    fn describe() -> PluginInfo;

    /// Maps one message; mappers override this.
    fn map(_input: &Message) -> Result<Vec<Output>, PluginError> {
        Err(PluginError::unsupported("this plugin is not a mapper"))
    }

    /// Validates one document; validators override this.
    fn validate(_doc: &Document) -> Result<Vec<Violation>, PluginError> {
        Err(PluginError::unsupported("this plugin is not a validator"))
    }
}
