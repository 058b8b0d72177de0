//! Keeping credentials out of what the host stores and logs about an
//! outbound call: dead letters, attempt records (the admin timeline), error
//! texts and log lines. Header values of credential-like headers are never
//! echoed, URL userinfo is redacted, and any configured secret a target
//! happens to echo in its answer is blanked before the answer is kept.

use crate::config::REDACTED;
pub use crate::config::redact_url;

/// Whether a header carries a credential, by (case-insensitive) name:
/// `authorization`, `proxy-authorization`, `cookie`, `set-cookie`,
/// `x-api-key`, `api-key`, and any `*-token`, `*-secret`, `*-key` suffix
/// (but not `idempotency-key`, which is meant to be seen).
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key" | "api-key"
    ) || (name != "idempotency-key"
        && ["-token", "-secret", "-key", "_token", "_secret"]
            .iter()
            .any(|suffix| name.ends_with(suffix)))
}

/// Blanks known secret values out of text before it is stored or logged.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    /// Longest first, so that a secret containing another is blanked whole.
    secrets: Vec<String>,
}

/// Secrets shorter than this are not searched for: blanking `abc` out of
/// every answer would mangle it and protect nothing.
const MIN_SCRUBBED_LEN: usize = 6;

impl Scrubber {
    /// A scrubber for these secret values.
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| s.len() >= MIN_SCRUBBED_LEN)
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with every known secret, and `extra` (a token obtained at run
    /// time), replaced by `<redacted>`.
    pub fn scrub(&self, text: &str, extra: Option<&str>) -> String {
        let mut out = text.to_owned();
        let extra = extra.filter(|s| s.len() >= MIN_SCRUBBED_LEN);
        for secret in extra
            .into_iter()
            .chain(self.secrets.iter().map(String::as_str))
        {
            if out.contains(secret) {
                out = out.replace(secret, REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_recognised() {
        for name in [
            "Authorization",
            "proxy-authorization",
            "X-API-Key",
            "api-key",
            "X-Acme-Token",
            "x-client-secret",
            "Cookie",
            "x-subscription-key",
        ] {
            assert!(is_sensitive_header(name), "{name}");
        }
        for name in [
            "content-type",
            "x-waybill-tenant",
            "idempotency-key",
            "accept",
        ] {
            assert!(!is_sensitive_header(name), "{name}");
        }
    }

    #[test]
    fn scrubbing_blanks_every_known_secret() {
        let scrubber = Scrubber::new(["s3cret-token".to_owned(), "abc".to_owned()]);
        assert_eq!(
            scrubber.scrub(
                "bad token s3cret-token and s3cret-token",
                Some("live-access-9")
            ),
            "bad token <redacted> and <redacted>"
        );
        assert_eq!(
            scrubber.scrub("got live-access-9", Some("live-access-9")),
            "got <redacted>"
        );
        // Too short to search for without mangling answers.
        assert_eq!(scrubber.scrub("abc", None), "abc");
    }
}
