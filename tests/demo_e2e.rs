//! The README's first command, smaller: `waybill-demo --orders 20` (what
//! `cargo xtask demo` runs) plays the whole order-to-cash scenario against the simulated partner systems, with
//! the built binary, the built plugins and the repository's schemas and
//! samples, and must pass its own checks (exit 0) with a report that names
//! what it found. A test of the `waybill-demo` package (`host/demo`), so
//! cargo builds that binary for it.

mod common;

use std::process::Command;

#[test]
fn a_small_demo_passes_its_own_checks_and_reports() {
    let plugins = common::plugins_dir();
    let root = common::repo_root();
    let work = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_waybill-demo"))
        .arg("--cache-dir")
        .arg(root.join("target/waybill-test-cache"))
        .args(["--orders", "20", "--seed", "7"])
        .arg("--plugins")
        .arg(&plugins)
        .arg("--schemas")
        .arg(root.join("schemas"))
        .arg("--samples")
        .arg(root.join("fixtures/samples"))
        .arg("--workdir")
        .arg(work.path().join("demo"))
        .output()
        .expect("run waybill-demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "demo failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    for line in [
        "== All checks passed",
        "run 2 pushes nothing (content hashes unchanged)",
        "answered 202, completed asynchronously, booked exactly once",
        "is a stale-event exception; the ERP stays DELIVERED",
        "acme-tms-milestone 1.1.0 live",
        "after the fix, the replayed milestones reach the ERP",
        "approving #",
        "billing voids the invoice",
        "reconciliation finds each planted drift",
        "reconciliation finds nothing else",
        "ERP, TMS, billing and portal agree on all 20 orders but the 3 planted drifts",
        "recon-attribute-drift 1, recon-status-drift 1, stale-event 1",
        "order-to-cash sync completeness:       17/20 (85.0 %)",
        "invoices posted without manual touch:  18/20 (90.0 %)",
        "reaches the ERP (carrier, PRO, time) and the portal",
        "ERP status history ends DELIVERED (X12 214), then POD_AVAILABLE (TMS)",
        "is approved against the quote and billed once, as invoiced",
        "charge discrepancy rate:               2/21 (9.5 %)",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    assert!(!stdout.contains('\u{2717}'), "a check failed:\n{stdout}");
    // The X12 214s name their order: nothing of theirs is dead-lettered.
    assert!(
        !stdout.contains("carrier-edi-status ("),
        "EDI dead letters:\n{stdout}"
    );
    let latency = stdout
        .lines()
        .find(|l| l.contains("shipment event latency"))
        .expect("latency KPI");
    assert!(
        latency.contains("p50 ") && latency.contains("p99 "),
        "{latency}"
    );
}
