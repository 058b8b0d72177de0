//! Collects every problem of one input so a single `invalid-input` error
//! lists them all, instead of stopping at the first.

use crate::{PluginError, Violation};

/// Violations found so far.
#[derive(Debug, Default)]
pub struct Problems(Vec<Violation>);

impl Problems {
    /// Records a violation.
    pub fn push(&mut self, path: &str, code: &str, message: impl Into<String>) {
        self.0.push(Violation::new(path, code, message));
    }

    /// The value of a required text field, or `""` after recording it as
    /// missing; blank text counts as missing.
    pub fn required<'a>(&mut self, value: Option<&'a str>, path: &str) -> &'a str {
        match present(value) {
            Some(v) => v,
            None => {
                self.push(path, "required", format!("{path} is required"));
                ""
            }
        }
    }

    /// The violations recorded so far as the error; call it only after
    /// recording at least one.
    pub fn into_error(self) -> PluginError {
        PluginError::invalid_all(self.0)
    }

    /// `Ok(value)` when nothing was recorded, else every violation.
    pub fn finish<T>(self, value: T) -> Result<T, PluginError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(PluginError::invalid_all(self.0))
        }
    }
}

/// An optional text field: blank text counts as absent.
pub fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// An optional text field trimmed, as an owned string; blank text counts as
/// absent.
pub fn trimmed(value: Option<&str>) -> Option<String> {
    present(value).map(|v| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::{present, trimmed};

    #[test]
    fn blank_text_is_absent() {
        assert_eq!(present(Some(" x ")), Some(" x "));
        assert_eq!(present(Some("  ")), None);
        assert_eq!(trimmed(Some(" x ")).as_deref(), Some("x"));
        assert_eq!(trimmed(Some(" \t")), None);
        assert_eq!(trimmed(None), None);
    }
}
