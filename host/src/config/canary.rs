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
