//! The error every X12 reading problem becomes: a path, a code, a message.

use std::fmt;

/// A problem in an interchange, located by a `/<SEG>[n]/<elem>` path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X12Error {
    /// Where: `/AT7[2]/01`, `/B3/07`, `/ISA`, ...
    pub path: String,
    /// Stable machine-readable code, e.g. `malformed-segment`.
    pub code: String,
    /// Human-readable explanation, naming the segment position and line.
    pub message: String,
}

impl X12Error {
    /// An error at `path`.
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

impl fmt::Display for X12Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.path, self.code, self.message)
    }
}

impl std::error::Error for X12Error {}
