//! Saving the good lines of a page its snapshot plugin refused as invalid:
//! one bad record must cost one `snapshot-error`, not a page of `missing`.
//! When the violations name their lines (`/line/<n>/...`, as
//! `waybill_sdk::ndjson` reports them) the rest of the page is mapped again
//! in one call; otherwise, or if that fails too, line by line.

use std::collections::BTreeMap;

use waybill_sdk::Violation;

use super::mapper::{PageOutcome, SnapshotMapper};
use super::pager::Page;

impl SnapshotMapper {
    /// Keeps the good lines of a page refused with `violations`.
    pub(super) fn salvage(&self, page: &Page, violations: &[Violation], out: &mut PageOutcome) {
        let lines: Vec<(u64, &[u8])> = page.each_line().collect();
        let Some(bad) = bad_lines(violations, lines.len()) else {
            return self.line_by_line(&lines, out);
        };
        let mut rest = Vec::with_capacity(page.bytes.len());
        let mut good = Vec::with_capacity(lines.len());
        for (i, (number, line)) in lines.iter().enumerate() {
            match bad.get(&(i + 1)) {
                Some(vs) => out.findings.push(self.error(
                    &format!("line {number}"),
                    describe(vs),
                    vs.clone(),
                    Some(line),
                )),
                None => {
                    rest.extend_from_slice(line);
                    rest.push(b'\n');
                    good.push((*number, *line));
                }
            }
        }
        if good.is_empty() {
            return;
        }
        out.calls += 1;
        match self.call(&self.message(rest)) {
            Ok(outputs) => self.collect(outputs, out),
            Err(_) => self.line_by_line(&good, out),
        }
    }

    fn line_by_line(&self, lines: &[(u64, &[u8])], out: &mut PageOutcome) {
        for (number, line) in lines {
            out.calls += 1;
            match self.call(&self.message(line.to_vec())) {
                Ok(outputs) => self.collect(outputs, out),
                Err(f) => out.findings.push(self.error(
                    &format!("line {number}"),
                    f.message,
                    f.violations,
                    Some(line),
                )),
            }
        }
    }
}

/// The violations by 1-based page line, when every one names its line.
fn bad_lines(violations: &[Violation], lines: usize) -> Option<BTreeMap<usize, Vec<Violation>>> {
    let mut bad: BTreeMap<usize, Vec<Violation>> = BTreeMap::new();
    for v in violations {
        let rest = v.path.strip_prefix("/line/")?;
        let n: usize = rest.split('/').next()?.parse().ok()?;
        if n == 0 || n > lines {
            return None;
        }
        bad.entry(n).or_default().push(v.clone());
    }
    (!bad.is_empty()).then_some(bad)
}

/// `invalid-amount at /line/3/grand_total: ... (and 1 more)`.
fn describe(violations: &[Violation]) -> String {
    let Some(first) = violations.first() else {
        return "invalid input".into();
    };
    let mut text = format!("{} at {}: {}", first.code, first.path, first.message);
    if violations.len() > 1 {
        text.push_str(&format!(" (and {} more)", violations.len() - 1));
    }
    text
}
