//! Plugin call cost, Wasm against native, measured in one run.
//!
//! `cargo xtask plugins && cargo bench -p waybill --bench plugin_calls`
//!
//! For the X12 214 mapping and the Northwind order mapping: the mapping
//! compiled natively (the baseline), through Wasm with a fresh instance per
//! call (what production does), and the call alone on a reused instance;
//! plus instantiation alone and compiling the component. Prints a table of
//! ratios to the native baseline at the end.
//!
//! Instruction counts, comparable across noisy runs:
//! `WAYBILL_BENCH_CALLGRIND=1 cargo bench -p waybill --bench plugin_calls`
//! runs this binary under `valgrind --tool=callgrind` twice per case, once
//! making no calls and once making [`COUNTED_CALLS`] fresh-instance calls
//! (`WAYBILL_BENCH_CALLS`, `WAYBILL_BENCH_CASE`), and prints the difference
//! per call: the instructions of one production plugin call (store, WASI
//! context, instantiation, the call, lifting the result), without start-up.

use criterion::Criterion;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use waybill::plugins::{Message, PluginVersion, Runtime, RuntimeOptions};
use waybill_sdk::Plugin;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Case {
    group: &'static str,
    plugin: &'static str,
    sample: &'static str,
    content_type: &'static str,
    native: fn(&Message) -> usize,
}

const CASES: &[Case] = &[
    Case {
        group: "x12-214",
        plugin: "x12-214-status",
        sample: "fixtures/samples/x12/214-shipment-status.edi",
        content_type: "application/edi-x12",
        native: |m| {
            x12_214_status::X12ShipmentStatus::map(m)
                .map(|o| o.len())
                .unwrap_or(0)
        },
    },
    Case {
        group: "erp-order",
        plugin: "northwind-order-released",
        sample: "fixtures/samples/vendors/northwind-erp.sales-order-released.json",
        content_type: "application/json",
        native: |m| {
            northwind_order_released::NorthwindOrderReleased::map(m)
                .map(|o| o.len())
                .unwrap_or(0)
        },
    },
];

fn bench(c: &mut Criterion) {
    let rt = Runtime::new(RuntimeOptions {
        cache_dir: Some(root().join("target/waybill-bench-cache")),
        ..Default::default()
    })
    .expect("runtime");
    let config = Arc::new(BTreeMap::new());
    for case in CASES {
        let (version, msg) = load_case(&rt, case);
        assert!(
            (case.native)(&msg) > 0,
            "native mapping of {} produced nothing",
            case.sample
        );

        let mut g = c.benchmark_group(case.group);
        g.bench_function("native", |b| b.iter(|| (case.native)(black_box(&msg))));
        g.bench_function("wasm-fresh-instance", |b| {
            b.iter(|| {
                version
                    .map(black_box(&msg), &config)
                    .expect("call")
                    .result
                    .map(|o| o.len())
            })
        });
        let mut reused = version.bench_reused(&config).expect("instance");
        g.bench_function("wasm-reused-instance", |b| {
            b.iter(|| reused.map(black_box(&msg)).expect("call").map(|o| o.len()))
        });
        g.bench_function("instantiate-only", |b| {
            b.iter(|| version.bench_instantiate(&config).expect("instantiate"))
        });
        g.finish();
    }

    let bytes =
        std::fs::read(root().join("target/plugins/northwind-order-released.wasm")).expect("wasm");
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    g.bench_function("erp-order-component", |b| {
        b.iter(|| {
            wasmtime::component::Component::new(rt.engine(), black_box(&bytes)).expect("compile")
        })
    });
    g.finish();
}

/// Mean time of one criterion benchmark from this run, in nanoseconds.
fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let path = target
        .join("criterion")
        .join(group)
        .join(id)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn report() {
    println!(
        "\n| mapping | native | wasm, fresh instance | ratio | call on reused instance | ratio | instantiate only |"
    );
    println!("|---|---|---|---|---|---|---|");
    for case in CASES {
        let (Some(n), Some(f), Some(r), Some(i)) = (
            mean_ns(case.group, "native"),
            mean_ns(case.group, "wasm-fresh-instance"),
            mean_ns(case.group, "wasm-reused-instance"),
            mean_ns(case.group, "instantiate-only"),
        ) else {
            continue;
        };
        println!(
            "| {} | {:.1} µs | {:.1} µs | {:.2}x | {:.1} µs | {:.2}x | {:.1} µs |",
            case.group,
            n / 1e3,
            f / 1e3,
            f / n,
            r / 1e3,
            r / n,
            i / 1e3
        );
    }
    if let Some(c) = mean_ns("compile", "erp-order-component") {
        println!("\ncompile (Component::new, erp-order): {:.1} ms", c / 1e6);
    }
}

/// Fresh-instance calls counted per case under callgrind.
const COUNTED_CALLS: u64 = 200;

/// Loads `case`'s plugin and message (one call made: compiled, pools warm).
fn load_case(rt: &Arc<Runtime>, case: &Case) -> (Arc<PluginVersion>, Message) {
    let wasm = root()
        .join("target/plugins")
        .join(format!("{}.wasm", case.plugin));
    let version =
        PluginVersion::load_file(rt, &wasm, None).expect("run `cargo xtask plugins` first");
    let body = std::fs::read(root().join(case.sample)).expect("sample");
    let kind = version.info.consumes[0].clone();
    let msg = Message::new(&kind, case.content_type, body);
    assert!(
        version
            .map(&msg, &Arc::new(BTreeMap::new()))
            .expect("call")
            .result
            .is_ok()
    );
    (version, msg)
}

/// `WAYBILL_BENCH_CALLS` fresh-instance calls of `WAYBILL_BENCH_CASE`.
fn counted_calls(calls: u64) {
    let rt = Runtime::new(RuntimeOptions {
        cache_dir: Some(root().join("target/waybill-bench-cache")),
        ..Default::default()
    })
    .expect("runtime");
    let group = std::env::var("WAYBILL_BENCH_CASE").unwrap_or_else(|_| CASES[0].group.into());
    let case = CASES
        .iter()
        .find(|c| c.group == group)
        .unwrap_or_else(|| panic!("unknown WAYBILL_BENCH_CASE {group}"));
    let (version, msg) = load_case(&rt, case);
    let config = Arc::new(BTreeMap::new());
    for _ in 0..calls {
        let outputs = version.map(black_box(&msg), &config).expect("call");
        black_box(outputs.result.map(|o| o.len()).unwrap_or(0));
    }
}

/// Instructions of this binary run under callgrind with `calls` calls.
fn callgrind_total(case: &str, calls: u64) -> u64 {
    let out = std::env::temp_dir().join(format!("waybill-callgrind-{case}-{calls}.out"));
    let status = std::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--quiet"])
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(std::env::current_exe().expect("this binary"))
        .env("WAYBILL_BENCH_CALLS", calls.to_string())
        .env("WAYBILL_BENCH_CASE", case)
        .env_remove("WAYBILL_BENCH_CALLGRIND")
        .status()
        .expect("valgrind (apt-get install valgrind)");
    assert!(status.success(), "valgrind run failed: {status}");
    let text = std::fs::read_to_string(&out).expect("callgrind output");
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("callgrind totals")
}

fn callgrind_report() {
    println!("| mapping | instructions per fresh-instance call (callgrind) |");
    println!("|---|---|");
    for case in CASES {
        // Once first: compiles the component into the cache if needed.
        callgrind_total(case.group, 0);
        let base = callgrind_total(case.group, 0);
        let counted = callgrind_total(case.group, COUNTED_CALLS);
        let per_call = counted.saturating_sub(base) / COUNTED_CALLS;
        eprintln!(
            "{}: {base} instructions without calls, {counted} with {COUNTED_CALLS}",
            case.group
        );
        println!("| {} | {per_call} |", case.group);
    }
}

fn main() {
    if let Some(calls) = std::env::var("WAYBILL_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return counted_calls(calls);
    }
    if std::env::var_os("WAYBILL_BENCH_CALLGRIND").is_some() {
        return callgrind_report();
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    report();
}
