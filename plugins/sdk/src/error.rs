//! Typed plugin errors and violations: vendor data that is bad is a value.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One problem found in an input or document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSON pointer, or a segment/element reference for EDI (`/AT7/01`).
    pub path: String,
    /// Stable machine-readable code.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Violation {
    /// A violation at `path` with `code` and `message`.
    pub fn new(
        path: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Why a plugin refused a call; mirrors `plugin-error` in the WIT contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "kebab-case")]
pub enum PluginError {
    /// The input is malformed or breaks a vendor rule.
    InvalidInput {
        /// Every problem found.
        violations: Vec<Violation>,
    },
    /// The plugin does not handle this input or operation.
    Unsupported {
        /// What is unsupported.
        message: String,
    },
    /// Declined by business rule.
    Rejected {
        /// Why.
        message: String,
    },
}

impl PluginError {
    /// Invalid input with a single violation.
    pub fn invalid(
        path: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::InvalidInput {
            violations: vec![Violation::new(path, code, message)],
        }
    }

    /// Invalid input with several violations.
    pub fn invalid_all(violations: Vec<Violation>) -> Self {
        Self::InvalidInput { violations }
    }

    /// A required field is missing.
    pub fn missing(path: impl Into<String>) -> Self {
        let path = path.into();
        let message = format!("{path} is required");
        Self::invalid(path, "required", message)
    }

    /// Unsupported input or operation.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::Unsupported {
            message: message.into(),
        }
    }

    /// Declined by business rule.
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::Rejected {
            message: message.into(),
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInput { violations } => {
                write!(f, "invalid input:")?;
                for v in violations {
                    write!(f, " [{} {}: {}]", v.path, v.code, v.message)?;
                }
                Ok(())
            }
            Self::Unsupported { message } => write!(f, "unsupported: {message}"),
            Self::Rejected { message } => write!(f, "rejected: {message}"),
        }
    }
}

impl std::error::Error for PluginError {}
