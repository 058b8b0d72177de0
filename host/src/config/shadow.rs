//! `[plugins.shadow]`: how much a shadow run may cost this host (the
//! queue of shadow calls, the threads that run them, their share of the
//! active path's plugin time) and what every shadow run compares by
//! default (the pointers and member names it ignores, the differing
//! examples it keeps). A shadow run's own `ignore` list adds to this one.

use super::locate::path;
use super::validate::Invalid;
use serde::{Deserialize, Serialize};

/// `[plugins.shadow]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowConfig {
    /// Shadow call time allowed per unit of active plugin call time
    /// (0.2: the shadow may spend a fifth of what the active path spends).
    #[serde(default = "default_max_share")]
    pub max_share: f64,
    /// Shadow calls waiting at most; more are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Threads running shadow calls.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Differing examples a shadow run keeps (both documents each).
    #[serde(default = "default_examples")]
    pub examples: usize,
    /// JSON pointers (`/meta/generated_at`) and member names
    /// (`generated_at`) every comparison ignores.
    #[serde(default)]
    pub ignore: Vec<String>,
}

impl Default for ShadowConfig {
    fn default() -> Self {
        Self {
            max_share: default_max_share(),
            queue: default_queue(),
            workers: default_workers(),
            examples: default_examples(),
            ignore: Vec::new(),
        }
    }
}

fn default_max_share() -> f64 {
    0.2
}
fn default_queue() -> usize {
    1024
}
fn default_workers() -> usize {
    1
}
fn default_examples() -> usize {
    20
}

/// The largest share a shadow may take (ten times the active path).
pub const MAX_SHARE: f64 = 10.0;
/// The most examples a run keeps.
pub const MAX_EXAMPLES: usize = 1000;

impl ShadowConfig {
    /// The runtime's limits.
    pub fn limits(&self) -> crate::plugins::ShadowLimits {
        crate::plugins::ShadowLimits {
            queue: self.queue,
            workers: self.workers,
            max_share: self.max_share,
        }
    }

    pub(crate) fn check(&self) -> Result<(), Invalid> {
        let at = || path("plugins").key("shadow");
        let fail = |key: &str, message: String| {
            Err(Invalid {
                path: at().key(key),
                message,
            })
        };
        if !(self.max_share > 0.0 && self.max_share <= MAX_SHARE) {
            return fail(
                "max_share",
                format!(
                    "must be a share above 0 and at most {MAX_SHARE} (0.2: a fifth of the active path's plugin time), not {}",
                    self.max_share
                ),
            );
        }
        if self.queue == 0 {
            return fail("queue", "must be at least 1".into());
        }
        if !(1..=64).contains(&self.workers) {
            return fail("workers", "must be 1 to 64".into());
        }
        if self.examples > MAX_EXAMPLES {
            return fail("examples", format!("must be at most {MAX_EXAMPLES}"));
        }
        if let Err(e) = crate::plugins::Ignore::parse(&self.ignore) {
            let index = self.ignore.iter().position(|i| *i == e.entry).unwrap_or(0);
            return Err(Invalid {
                path: at().key("ignore").index(index),
                message: e.to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use std::path::Path;

    fn error(shadow: &str) -> String {
        match parse(
            &format!("[plugins.shadow]\n{shadow}\n"),
            Path::new("waybill.toml"),
        ) {
            Ok(_) => panic!("expected an error for {shadow}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_apply_and_bad_values_name_their_key() {
        let config = parse("", Path::new("waybill.toml")).expect("empty config");
        assert_eq!(config.plugins.shadow, super::ShadowConfig::default());
        assert_eq!(config.plugins.shadow.examples, 20);
        assert_eq!(config.plugins.shadow.max_share, 0.2);
        for (text, key, says) in [
            (
                "max_share = 0",
                "plugins.shadow.max_share",
                "must be a share above 0",
            ),
            ("max_share = 11.0", "plugins.shadow.max_share", "at most 10"),
            ("queue = 0", "plugins.shadow.queue", "at least 1"),
            ("workers = 0", "plugins.shadow.workers", "1 to 64"),
            ("examples = 5000", "plugins.shadow.examples", "at most 1000"),
            (
                "ignore = [\"ok\", \"/a~\"]",
                "plugins.shadow.ignore[1]",
                "followed by 0 or 1",
            ),
            (
                "ignore = [\"\"]",
                "plugins.shadow.ignore[0]",
                "must not be empty",
            ),
            (
                "sample = 1",
                "plugins.shadow.sample",
                "unknown key `sample`",
            ),
        ] {
            let e = error(text);
            assert!(e.starts_with("waybill.toml:2:"), "{text}: {e}");
            assert!(e.contains(key), "{text}: {e}");
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
