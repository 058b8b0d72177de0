//! What a run did, in numbers: records read per system, groups compared,
//! findings by kind, time per phase, throughput and peak memory. JSON for
//! the store and the admin API; [`RunReport::summary`] for people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::finding::FindingKind;

/// The outcome of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// The `since` of an incremental run, RFC 3339.
    pub since: Option<String>,
    /// An incremental run reports no `missing` (absence proves nothing).
    pub incremental: bool,
    /// Per configured system.
    pub systems: BTreeMap<String, SystemCounts>,
    /// Records compared (all systems).
    pub records: u64,
    /// Records of entities or systems the rules do not compare, dropped.
    pub records_ignored: u64,
    /// (entity, id) groups compared.
    pub groups_compared: u64,
    /// Findings by kind (kebab-case name); every kind is present.
    pub findings: BTreeMap<String, u64>,
    pub findings_total: u64,
    /// Fetching and mapping the snapshots into the scratch file.
    pub load_ms: u64,
    /// Building the scratch index.
    pub index_ms: u64,
    /// Comparing the groups (including handing findings to the sink).
    pub compare_ms: u64,
    pub duration_ms: u64,
    /// Records read (compared or ignored) per second of the whole run.
    pub records_per_sec: f64,
    /// The process's peak resident memory (Linux `VmHWM`), when known.
    pub peak_rss_bytes: Option<u64>,
}

/// What one system's snapshots gave.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SystemCounts {
    /// Snapshot endpoints read.
    pub snapshots: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Non-blank lines handed to the plugin.
    pub lines: u64,
    /// Plugin calls (pages, plus lines mapped one by one after a refusal).
    pub plugin_calls: u64,
    /// Records mapped (before the rules drop any).
    pub records: u64,
}

impl RunReport {
    /// A report with every finding kind at zero.
    pub(crate) fn new(run_id: String, started_at: String, since: Option<String>) -> Self {
        Self {
            run_id,
            started_at,
            incremental: since.is_some(),
            since,
            findings: FindingKind::ALL
                .iter()
                .map(|k| (k.as_str().to_owned(), 0))
                .collect(),
            ..Self::default()
        }
    }

    pub(crate) fn count(&mut self, kind: FindingKind) {
        *self.findings.entry(kind.as_str().to_owned()).or_default() += 1;
        self.findings_total += 1;
    }

    /// Stamps the duration, the rate and the peak memory.
    pub(crate) fn finish(&mut self, elapsed: std::time::Duration) {
        self.duration_ms = elapsed.as_millis() as u64;
        let read = self.records + self.records_ignored;
        self.records_per_sec = read as f64 / elapsed.as_secs_f64().max(1e-9);
        self.peak_rss_bytes = peak_rss_bytes();
    }

    /// A readable multi-line account of the run.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let mode = match &self.since {
            Some(since) => format!("incremental since {since}, `missing` not checked"),
            None => "full".to_owned(),
        };
        let _ = writeln!(s, "reconciliation run {} ({mode})", self.run_id);
        let _ = writeln!(s, "  started   {}", self.started_at);
        for (name, c) in &self.systems {
            let _ = writeln!(
                s,
                "  {name:<10} {} records from {} lines, {} snapshot(s), {} plugin calls, {}",
                c.records,
                c.lines,
                c.snapshots,
                c.plugin_calls,
                bytes(c.bytes)
            );
        }
        let _ = writeln!(
            s,
            "  compared  {} records in {} groups ({} records ignored by the rules)",
            self.records, self.groups_compared, self.records_ignored
        );
        let _ = writeln!(s, "  findings  {}", self.findings_total);
        for kind in FindingKind::ALL {
            let n = self.findings.get(kind.as_str()).copied().unwrap_or(0);
            if n > 0 {
                let _ = writeln!(s, "    {:<18} {n}", kind.as_str());
            }
        }
        let _ = writeln!(
            s,
            "  took      {:.1} s (load {:.1} s, index {:.1} s, compare {:.1} s), {:.0} records/s",
            self.duration_ms as f64 / 1e3,
            self.load_ms as f64 / 1e3,
            self.index_ms as f64 / 1e3,
            self.compare_ms as f64 / 1e3,
            self.records_per_sec
        );
        if let Some(peak) = self.peak_rss_bytes {
            let _ = writeln!(s, "  peak RSS  {} (process)", bytes(peak));
        }
        s
    }
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// `VmHWM` of `/proc/self/status`, in bytes (Linux only; `None` elsewhere).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_systems_kinds_and_mode() {
        let mut r = RunReport::new("r1".into(), "2026-06-01T00:00:00Z".into(), None);
        r.systems.insert(
            "erp".into(),
            SystemCounts {
                snapshots: 1,
                bytes: 3 << 20,
                lines: 10,
                plugin_calls: 1,
                records: 10,
            },
        );
        r.records = 10;
        r.groups_compared = 7;
        r.count(FindingKind::StatusDrift);
        r.count(FindingKind::StatusDrift);
        r.finish(std::time::Duration::from_millis(500));
        let text = r.summary();
        assert!(text.contains("run r1 (full)"), "{text}");
        assert!(
            text.contains("erp        10 records from 10 lines"),
            "{text}"
        );
        assert!(text.contains("3.0 MiB"), "{text}");
        assert!(text.contains("status-drift       2"), "{text}");
        assert!(!text.contains("missing "), "{text}");
        assert_eq!(r.records_per_sec, 20.0);
        assert_eq!(r.findings["missing"], 0);
        if cfg!(target_os = "linux") {
            assert!(r.peak_rss_bytes.is_some_and(|b| b > 1 << 20));
        }
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["findings"]["status-drift"], 2);
        assert_eq!(json["incremental"], false);
    }
}
