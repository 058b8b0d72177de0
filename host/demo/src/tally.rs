//! What the demo observes as it runs: its own checks (printed as they pass
//! or fail, and deciding the exit code), event latencies and the counts the
//! report and the KPIs are made of.

use std::collections::BTreeMap;
use std::time::Duration;

/// One of the demo's own checks.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// Everything the steps hand to the report.
#[derive(Debug, Default)]
pub struct Tally {
    pub checks: Vec<Check>,
    /// Milestone emitted by the TMS -> status update recorded by the ERP.
    pub latencies: Vec<Duration>,
    /// Named counts: `bookings.async`, `milestones.sent`, ...
    pub counts: BTreeMap<&'static str, usize>,
    /// The reconciliation run's summary lines.
    pub reconciliation: Vec<String>,
}

impl Tally {
    /// Records a check and prints it at once.
    pub fn check(&mut self, name: impl Into<String>, ok: bool, detail: impl Into<String>) {
        let (name, detail) = (name.into(), detail.into());
        if ok {
            println!("   \u{2713} {name}");
        } else {
            println!("   \u{2717} {name}: {detail}");
        }
        self.checks.push(Check { name, ok, detail });
    }

    /// Checks that `got` equals `want`.
    pub fn expect_eq<T: PartialEq + std::fmt::Debug>(
        &mut self,
        name: impl Into<String>,
        got: T,
        want: T,
    ) {
        let detail = format!("got {got:?}, expected {want:?}");
        self.check(name, got == want, detail);
    }

    pub fn add(&mut self, what: &'static str, n: usize) {
        *self.counts.entry(what).or_default() += n;
    }

    pub fn count(&self, what: &str) -> usize {
        self.counts.get(what).copied().unwrap_or(0)
    }

    pub fn failed(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }

    /// The `p`-th percentile (0..=100) of the latencies, nearest rank.
    pub fn latency_percentile(&self, p: f64) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
    }
}

/// Prints `done/total what` at each quarter, for long loops.
pub struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
    next: usize,
}

impl Progress {
    pub fn new(what: &'static str, total: usize) -> Progress {
        Progress {
            what,
            total,
            done: 0,
            next: total.div_ceil(4).max(1),
        }
    }

    pub fn tick(&mut self) {
        self.done += 1;
        if self.done >= self.next || self.done == self.total {
            println!("   .. {}/{} {}", self.done, self.total, self.what);
            self.next = self.done + self.total.div_ceil(4).max(1);
        }
    }
}
