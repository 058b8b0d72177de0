//! `[plugins.canary]`: when a running canary is aborted by itself. The
//! host compares the candidate's error rate (typed errors plus faults per
//! call) with the active version's over a sliding window, once the
//! candidate has had enough calls in it to judge.

use serde::{Deserialize, Serialize};

/// The automatic abort of plugin canaries.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryConfig {
    /// How much higher (0 to 1, absolute) the candidate's error rate may
    /// be than the active version's before the canary is aborted.
    #[serde(default = "default_abort_margin")]
    pub abort_margin: f64,
    /// Calls of the candidate within the window before it is judged.
    #[serde(default = "default_min_calls")]
    pub min_calls: u64,
    /// The window the rates are taken over, seconds.
    #[serde(default = "default_window_secs")]
    pub window_secs: u64,
}

impl Default for CanaryConfig {
    fn default() -> Self {
        Self {
            abort_margin: default_abort_margin(),
            min_calls: default_min_calls(),
            window_secs: default_window_secs(),
        }
    }
}

fn default_abort_margin() -> f64 {
    0.05
}

fn default_min_calls() -> u64 {
    50
}

fn default_window_secs() -> u64 {
    300
}

impl CanaryConfig {
    /// The first value that makes no sense: (its key, why).
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        if !self.abort_margin.is_finite() || !(0.0..=1.0).contains(&self.abort_margin) {
            return Err((
                "abort_margin",
                "must be a share between 0 and 1 (0.05 is five percentage points)",
            ));
        }
        if self.min_calls == 0 {
            return Err(("min_calls", "must be at least 1"));
        }
        if self.window_secs == 0 {
            return Err(("window_secs", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::parse;
    use std::path::Path;

    fn error(text: &str) -> String {
        match parse(text, Path::new("waybill.toml")) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn defaults_apply_and_values_parse() {
        let config = parse("", Path::new("waybill.toml")).expect("empty config");
        assert_eq!(config.plugins.canary, super::CanaryConfig::default());
        assert_eq!(
            (
                config.plugins.canary.abort_margin,
                config.plugins.canary.min_calls,
                config.plugins.canary.window_secs
            ),
            (0.05, 50, 300)
        );
        let config = parse(
            "[plugins.canary]\nabort_margin = 0.1\nmin_calls = 20\nwindow_secs = 60\n",
            Path::new("waybill.toml"),
        )
        .expect("valid");
        assert_eq!(
            (
                config.plugins.canary.abort_margin,
                config.plugins.canary.min_calls,
                config.plugins.canary.window_secs
            ),
            (0.1, 20, 60)
        );
    }

    #[test]
    fn errors_name_the_key() {
        for (text, expected) in [
            (
                "[plugins.canary]\nabort_margin = 1.5\n",
                "plugins.canary.abort_margin: must be a share between 0 and 1",
            ),
            (
                "[plugins.canary]\nabort_margin = -0.1\n",
                "plugins.canary.abort_margin: must be a share between 0 and 1",
            ),
            (
                "[plugins.canary]\nmin_calls = 0\n",
                "plugins.canary.min_calls: must be at least 1",
            ),
            (
                "[plugins.canary]\nwindow_secs = 0\n",
                "plugins.canary.window_secs: must be at least 1",
            ),
            (
                "[plugins.canary]\nmin_calls = -3\n",
                "plugins.canary.min_calls",
            ),
            ("[plugins.canary]\nabort_margins = 0.1\n", "abort_margins"),
        ] {
            let got = error(text);
            assert!(got.contains(expected), "{text}: {got}");
        }
    }
}
