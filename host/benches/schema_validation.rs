//! Validation cost of canonical documents against the cost of parsing them,
//! measured in one run.
//!
//! `cargo bench -p waybill --bench schema_validation`
//!
//! For a shipment event and a charge package produced by the real plugins
//! (their golden fixtures): `serde_json` parsing of the document (the
//! baseline) and validation of the parsed document against its compiled
//! schema, as the host does for every plugin output. Prints the ratio.

use criterion::Criterion;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use waybill::schemas::SchemaRegistry;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The body of the first output of a golden fixture.
fn document(fixture: &str) -> (String, String) {
    let text = std::fs::read_to_string(root().join(fixture)).expect("fixture");
    let outputs: serde_json::Value = serde_json::from_str(&text).expect("json");
    let schema = outputs[0]["schema_id"]
        .as_str()
        .expect("schema id")
        .to_string();
    (schema, outputs[0]["body"].to_string())
}

const CASES: &[(&str, &str)] = &[
    (
        "shipment-event",
        "plugins/acme-tms-milestone/fixtures/sample.expected.json",
    ),
    (
        "charge-package",
        "plugins/acme-tms-charges/fixtures/sample.expected.json",
    ),
];

fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let text = std::fs::read_to_string(
        target
            .join("criterion")
            .join(group)
            .join(id)
            .join("new/estimates.json"),
    )
    .ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["mean"]["point_estimate"].as_f64()
}

fn main() {
    let registry = SchemaRegistry::load(&root().join("schemas")).expect("schemas load");
    let mut c = Criterion::default().configure_from_args();
    for (group, fixture) in CASES {
        let (schema_id, body) = document(fixture);
        let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert!(
            registry.validate(&schema_id, &doc).is_ok(),
            "{fixture} must be valid"
        );
        let mut g = c.benchmark_group(format!("schema-{group}"));
        g.bench_function("parse", |b| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&body)).expect("json"))
        });
        g.bench_function("validate", |b| {
            b.iter(|| {
                registry
                    .validate(black_box(&schema_id), black_box(&doc))
                    .is_ok()
            })
        });
        g.finish();
    }
    c.final_summary();
    println!("\n| document | bytes | parse (serde_json) | validate | validate / parse |");
    println!("|---|---|---|---|---|");
    for (group, fixture) in CASES {
        let (_, body) = document(fixture);
        let g = format!("schema-{group}");
        if let (Some(p), Some(v)) = (mean_ns(&g, "parse"), mean_ns(&g, "validate")) {
            println!(
                "| {group} | {} | {:.2} µs | {:.2} µs | {:.2} |",
                body.len(),
                p / 1e3,
                v / 1e3,
                v / p
            );
        }
    }
}
