//! The `reason` configuration: the Ledgerly reason code of the credit note.

use waybill_sdk::PluginError;
use waybill_sdk::config;

/// Config key of the reason code.
pub const REASON_KEY: &str = "reason";
/// The reason when none is configured: ERP refused the posting.
pub const DEFAULT_REASON: &str = "posting_rejected";

/// The configured reason, `posting_rejected` when unset or blank; it must
/// be a Ledgerly reason code (lower-case snake_case).
pub fn from_config() -> Result<String, PluginError> {
    let Some(raw) = config::get(REASON_KEY).filter(|r| !r.trim().is_empty()) else {
        return Ok(DEFAULT_REASON.into());
    };
    let reason = raw.trim();
    if is_reason_code(reason) {
        Ok(reason.into())
    } else {
        Err(PluginError::invalid(
            format!("config/{REASON_KEY}"),
            "invalid-config",
            format!(
                "{REASON_KEY}={raw:?} is not a Ledgerly reason code (lower-case snake_case, e.g. {DEFAULT_REASON})"
            ),
        ))
    }
}

/// `[a-z][a-z0-9_]*`.
fn is_reason_code(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::is_reason_code;

    #[test]
    fn reason_codes_are_snake_case() {
        assert!(is_reason_code("posting_rejected"));
        assert!(is_reason_code("operator_rejected2"));
        assert!(!is_reason_code(""));
        assert!(!is_reason_code("Posting rejected"));
        assert!(!is_reason_code("_x"));
        assert!(!is_reason_code("posting-rejected"));
    }
}
