//! What a comparison of a candidate version with the active one found: how
//! many messages were compared, how many came out identical, where the
//! different ones differ (counts by JSON pointer), what the candidate
//! failed on (by reason), what was dropped to keep the active path fast,
//! both sides' latency, and the first differing examples with both
//! documents. One report per host and shadow run is kept in the store;
//! [`ShadowReport::merge`] adds up every host's into the store-wide one.
//! A recorded replay fills the same report offline.

use super::diff::{Ignore, diff};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// One side of a comparison: the outputs as a JSON document
/// (`[{"schema_id", "business_key", "body"}]`), or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum Side {
    /// The plugin answered.
    Outputs(Value),
    /// It failed: the dead-letter reason and detail.
    Failed {
        /// `plugin-error`, `trap`, `limit`, ...
        reason: String,
        /// The failure as processing records show it.
        detail: Value,
    },
}

impl Side {
    /// The outputs of a successful call, bodies parsed as JSON where they are.
    pub fn outputs(outputs: &[waybill_sdk::Output]) -> Self {
        Self::Outputs(Value::Array(
            outputs
                .iter()
                .map(|o| {
                    json!({
                        "schema_id": o.schema_id,
                        "business_key": o.business_key,
                        "body": serde_json::from_str::<Value>(&o.body)
                            .unwrap_or_else(|_| Value::String(o.body.clone())),
                    })
                })
                .collect(),
        ))
    }

    /// The side of a finished call.
    pub fn of(result: &Result<Vec<waybill_sdk::Output>, super::PluginFailure>) -> Self {
        match result {
            Ok(outputs) => Self::outputs(outputs),
            Err(f) => Self::Failed {
                reason: f.reason().to_string(),
                detail: f.detail(),
            },
        }
    }

    fn document(&self) -> Value {
        match self {
            Self::Outputs(v) => v.clone(),
            Self::Failed { reason, detail } => json!({"error": reason, "detail": detail}),
        }
    }
}

/// Where two sides differ, as pointers into the outputs document: a
/// missing or extra output is `/<i>`, its schema id and business key
/// `/<i>/schema_id` and `/<i>/business_key`, a place in its body
/// `/<i>/body<pointer>`. `ignore` applies to each body (`/meta/at` is a
/// place in the body, `at` a member name anywhere in it). Two failures
/// differ at `""` unless they are the same failure.
fn differences(a: &Side, c: &Side, ignore: &Ignore) -> Vec<String> {
    let (Side::Outputs(Value::Array(xs)), Side::Outputs(Value::Array(ys))) = (a, c) else {
        return if a == c {
            Vec::new()
        } else {
            vec![String::new()]
        };
    };
    let mut out = Vec::new();
    for i in 0..xs.len().max(ys.len()) {
        let (Some(x), Some(y)) = (xs.get(i), ys.get(i)) else {
            out.push(format!("/{i}"));
            continue;
        };
        for field in ["schema_id", "business_key"] {
            if x.get(field) != y.get(field) {
                out.push(format!("/{i}/{field}"));
            }
        }
        let (bx, by) = (&x["body"], &y["body"]);
        out.extend(
            diff(bx, by, ignore)
                .into_iter()
                .map(|d| format!("/{i}/body{}", d.pointer)),
        );
    }
    out
}

/// A latency histogram in microseconds, mergeable across hosts: buckets
/// of a quarter power of two (a bucket's bounds are ~19% apart).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Calls measured.
    pub count: u64,
    /// Their total time, microseconds.
    pub total_us: u64,
    /// Bucket index -> calls.
    pub buckets: BTreeMap<u32, u64>,
}

impl Latency {
    /// The bucket of a call of `us` microseconds.
    pub(crate) fn bucket(us: u64) -> u32 {
        ((us.max(1) as f64).log2() * 4.0).floor() as u32
    }

    /// Counts one call of `us` microseconds.
    pub fn record(&mut self, us: u64) {
        self.count += 1;
        self.total_us = self.total_us.saturating_add(us);
        *self.buckets.entry(Self::bucket(us)).or_default() += 1;
    }

    fn merge(&mut self, other: &Latency) {
        self.count += other.count;
        self.total_us = self.total_us.saturating_add(other.total_us);
        for (b, n) in &other.buckets {
            *self.buckets.entry(*b).or_default() += n;
        }
    }

    /// Mean, microseconds (0 without calls).
    pub fn mean_us(&self) -> u64 {
        self.total_us.checked_div(self.count).unwrap_or(0)
    }

    /// The `q` quantile (0..=1), microseconds: the middle of its bucket.
    pub fn quantile_us(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (b, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return 2f64.powf((f64::from(*b) + 0.5) / 4.0).round() as u64;
            }
        }
        0
    }

    fn summary(&self) -> Value {
        json!({
            "count": self.count,
            "mean_us": self.mean_us(),
            "p50_us": self.quantile_us(0.5),
            "p99_us": self.quantile_us(0.99),
        })
    }
}

/// One differing message, with both documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// The message's correlation id.
    pub correlation_id: String,
    /// The route it took.
    pub route: String,
    /// `inbound`, `outbound:<target>`, `enrich:<target>`.
    pub stage: String,
    /// Where the documents differ (or `""` for a failure on one side).
    pub pointers: Vec<String>,
    /// What the active version produced.
    pub active: Value,
    /// What the candidate produced.
    pub candidate: Value,
    /// When it was compared (ms since the epoch), to keep the first N of
    /// every host when reports are merged.
    pub at: i64,
}

/// The comparison so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShadowReport {
    /// Calls compared (each stage of each message that called the plugin).
    pub compared: u64,
    /// Both sides gave the same documents (or failed the same way).
    pub identical: u64,
    /// Both answered (or both failed) and the documents differ.
    pub different: u64,
    /// Differing calls per pointer (a call counts once per pointer).
    pub by_pointer: BTreeMap<String, u64>,
    /// The candidate failed where the active version answered, by reason.
    pub candidate_errors: BTreeMap<String, u64>,
    /// The active version failed where the candidate answered, by reason.
    pub active_errors: BTreeMap<String, u64>,
    /// Shadow calls not made, by reason (`queue-full`, `budget`).
    pub dropped: BTreeMap<String, u64>,
    /// Messages not compared, by reason (a recorded replay's).
    pub skipped: BTreeMap<String, u64>,
    /// The active version's call times.
    pub active_latency: Latency,
    /// The candidate's call times.
    pub candidate_latency: Latency,
    /// The first differing (or failing) calls.
    pub examples: Vec<Example>,
}

/// Where a compared call came from.
#[derive(Debug, Clone, Copy)]
pub struct CallSite<'a> {
    /// Correlation id of the message.
    pub correlation_id: &'a str,
    /// Route name.
    pub route: &'a str,
    /// Stage (`inbound`, `outbound:<target>`).
    pub stage: &'a str,
}

impl ShadowReport {
    /// Compares one call of both versions and counts it; keeps it as an
    /// example while fewer than `max_examples` are kept.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        site: CallSite<'_>,
        active: &Side,
        active_us: u64,
        candidate: &Side,
        candidate_us: u64,
        ignore: &Ignore,
        max_examples: usize,
        now_ms: i64,
    ) {
        self.compared += 1;
        self.active_latency.record(active_us);
        self.candidate_latency.record(candidate_us);
        let pointers: Vec<String> = match (active, candidate) {
            (Side::Outputs(_), Side::Failed { reason, .. }) => {
                *self.candidate_errors.entry(reason.clone()).or_default() += 1;
                vec![String::new()]
            }
            (Side::Failed { reason, .. }, Side::Outputs(_)) => {
                *self.active_errors.entry(reason.clone()).or_default() += 1;
                vec![String::new()]
            }
            (a, c) => {
                let pointers = differences(a, c, ignore);
                if pointers.is_empty() {
                    self.identical += 1;
                    return;
                }
                self.different += 1;
                for p in &pointers {
                    *self.by_pointer.entry(p.clone()).or_default() += 1;
                }
                pointers
            }
        };
        if self.examples.len() < max_examples {
            self.examples.push(Example {
                correlation_id: site.correlation_id.to_string(),
                route: site.route.to_string(),
                stage: site.stage.to_string(),
                pointers,
                active: active.document(),
                candidate: candidate.document(),
                at: now_ms,
            });
        }
    }

    /// Counts a shadow call not made.
    pub fn drop_call(&mut self, reason: &str) {
        *self.dropped.entry(reason.to_string()).or_default() += 1;
    }

    /// Counts a message not compared.
    pub fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }

    /// Adds `other` (another host's report of the same run); the examples
    /// are the first `max_examples` of both by time.
    pub fn merge(&mut self, other: &ShadowReport, max_examples: usize) {
        self.compared += other.compared;
        self.identical += other.identical;
        self.different += other.different;
        for (into, from) in [
            (&mut self.by_pointer, &other.by_pointer),
            (&mut self.candidate_errors, &other.candidate_errors),
            (&mut self.active_errors, &other.active_errors),
            (&mut self.dropped, &other.dropped),
            (&mut self.skipped, &other.skipped),
        ] {
            for (k, n) in from {
                *into.entry(k.clone()).or_default() += n;
            }
        }
        self.active_latency.merge(&other.active_latency);
        self.candidate_latency.merge(&other.candidate_latency);
        self.examples.extend(other.examples.iter().cloned());
        self.examples.sort_by_key(|e| e.at);
        self.examples.truncate(max_examples);
    }

    /// The report as the admin API and `--json` show it: the counts, the
    /// latency summaries (count, mean, p50, p99 per side) and the examples.
    pub fn to_json(&self) -> Value {
        json!({
            "compared": self.compared,
            "identical": self.identical,
            "different": self.different,
            "by_pointer": self.by_pointer,
            "candidate_errors": self.candidate_errors,
            "active_errors": self.active_errors,
            "dropped": self.dropped,
            "skipped": self.skipped,
            "latency": {
                "active": self.active_latency.summary(),
                "candidate": self.candidate_latency.summary(),
            },
            "examples": self.examples,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: CallSite<'static> = CallSite {
        correlation_id: "c-1",
        route: "probe",
        stage: "inbound",
    };

    fn out(body: Value) -> Side {
        Side::Outputs(json!([{"schema_id": "s@1", "business_key": "k", "body": body}]))
    }

    fn failed(reason: &str) -> Side {
        Side::Failed {
            reason: reason.into(),
            detail: json!({"message": reason}),
        }
    }

    #[test]
    fn calls_are_counted_by_outcome_and_pointer() {
        let ignore = Ignore::parse(&["at"]).expect("ignore");
        let mut r = ShadowReport::default();
        r.record(
            SITE,
            &out(json!({"a": 1, "at": 1})),
            10,
            &out(json!({"a": 1, "at": 2})),
            20,
            &ignore,
            1,
            1,
        );
        r.record(
            SITE,
            &out(json!({"a": 1, "b": 1})),
            10,
            &out(json!({"a": 2, "b": 2})),
            20,
            &ignore,
            1,
            2,
        );
        r.record(
            SITE,
            &out(json!({"a": 1})),
            10,
            &out(json!({"a": 3})),
            20,
            &ignore,
            1,
            3,
        );
        r.record(
            SITE,
            &out(json!({})),
            10,
            &failed("plugin-error"),
            20,
            &ignore,
            1,
            4,
        );
        r.record(
            SITE,
            &failed("trap"),
            10,
            &out(json!({})),
            20,
            &ignore,
            1,
            5,
        );
        r.record(
            SITE,
            &failed("trap"),
            10,
            &failed("trap"),
            20,
            &ignore,
            1,
            6,
        );
        assert_eq!((r.compared, r.identical, r.different), (6, 2, 2));
        assert_eq!(r.by_pointer.get("/0/body/a"), Some(&2));
        assert_eq!(r.by_pointer.get("/0/body/b"), Some(&1));
        assert_eq!(r.candidate_errors.get("plugin-error"), Some(&1));
        assert_eq!(r.active_errors.get("trap"), Some(&1));
        assert_eq!(r.examples.len(), 1, "one example kept");
        assert_eq!(r.examples[0].pointers, vec!["/0/body/a", "/0/body/b"]);
        assert_eq!(r.examples[0].active[0]["body"]["a"], 1);
        assert_eq!(r.examples[0].candidate[0]["body"]["b"], 2);
        assert_eq!(r.candidate_latency.mean_us(), 20);
    }

    #[test]
    fn merged_reports_add_up_and_keep_the_first_examples() {
        let ignore = Ignore::default();
        let (mut a, mut b) = (ShadowReport::default(), ShadowReport::default());
        a.record(SITE, &out(json!(1)), 10, &out(json!(2)), 10, &ignore, 5, 30);
        b.record(SITE, &out(json!(1)), 10, &out(json!(3)), 10, &ignore, 5, 10);
        b.record(SITE, &out(json!(1)), 10, &out(json!(1)), 10, &ignore, 5, 20);
        b.drop_call("queue-full");
        a.merge(&b, 1);
        assert_eq!((a.compared, a.identical, a.different), (3, 1, 2));
        assert_eq!(a.by_pointer.get("/0/body"), Some(&2));
        assert_eq!(a.dropped.get("queue-full"), Some(&1));
        assert_eq!(a.examples.len(), 1);
        assert_eq!(a.examples[0].at, 10, "the earliest example wins");
        assert_eq!(a.active_latency.count, 3);
    }

    #[test]
    fn quantiles_come_from_the_buckets() {
        let mut l = Latency::default();
        for us in [100; 98] {
            l.record(us);
        }
        l.record(10_000);
        l.record(10_000);
        let p50 = l.quantile_us(0.5);
        assert!((90..=120).contains(&p50), "p50 {p50}");
        let p99 = l.quantile_us(0.99);
        assert!((9_000..=12_000).contains(&p99), "p99 {p99}");
        assert_eq!(Latency::default().quantile_us(0.5), 0);
    }
}
