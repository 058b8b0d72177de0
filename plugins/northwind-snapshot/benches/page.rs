//! `cargo bench -p northwind-snapshot`: maps 1000-line pages natively and
//! prints records per second (no harness: one timing loop is enough to spot
//! a regression in the per-record cost).

use std::hint::black_box;
use std::time::Instant;
use waybill_sdk::{Message, Plugin};

fn main() {
    let sample = include_str!("../../../fixtures/vendors-ext/northwind-erp.orders.ndjson");
    let lines: Vec<&str> = sample.lines().filter(|l| !l.trim().is_empty()).collect();
    let body: String = (0..1000)
        .map(|i| format!("{}\n", lines[i % lines.len()]))
        .collect();
    let msg = Message::new(northwind_snapshot::KIND, "application/x-ndjson", body);
    let pages = 200;
    let start = Instant::now();
    let mut records = 0;
    for _ in 0..pages {
        records += black_box(northwind_snapshot::NorthwindSnapshot::map(black_box(&msg)))
            .map(|o| o.len())
            .unwrap_or(0);
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(records, pages * 1000, "every line maps");
    println!(
        "northwind-snapshot: {records} records in {secs:.3} s = {:.0} records/s ({:.2} us/record)",
        records as f64 / secs,
        secs * 1e6 / records as f64
    );
}
