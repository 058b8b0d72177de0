//! One mapping in three languages: the portal visibility mapping as the Rust
//! plugin (`portal-visibility`), in JavaScript (`portal-visibility-js`,
//! ComponentizeJS) and in Python (`portal-visibility-py`, componentize-py,
//! test-only), on the same input (the Rust plugin's `sample` case).
//!
//! `cargo xtask plugins && cargo bench -p waybill --bench plugin_langs`
//!
//! For each language: the component's size, compiling it
//! (`Component::new`), instantiating (store + instance from the
//! `InstancePre`, what every call pays), a call on a fresh instance (what
//! production does) and on a reused one (the mapping alone), each against
//! the Rust component, plus the linear memory after a call (the peak the
//! host's memory limit is checked against) and the default limits the host
//! gives the language; then one call with a 1 MiB document (the same event
//! with a large field every mapping ignores): its time and memory are what
//! the per-language CPU and memory defaults must leave room for. A
//! language whose component is not built (no Node.js or Python) is reported
//! as skipped. `WAYBILL_BENCH_ITERS` sets the calls per figure (default
//! 300; the large document: 5), `WAYBILL_BENCH_COMPILES` the compiles
//! (default 3). Components are loaded through the bench's disk cache
//! (the tests' `target/waybill-test-cache`), so only the measured compiles
//! compile.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use waybill::plugins::{Language, Message, PluginVersion, Runtime, RuntimeOptions};
use waybill_sdk::Plugin;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (language, component under target/plugins).
const COMPONENTS: &[(&str, &str)] = &[
    ("Rust", "portal-visibility.wasm"),
    ("JavaScript", "portal-visibility-js.wasm"),
    ("Python", "test/langs/portal-visibility-py.wasm"),
];

/// What was measured for one language.
struct Figures {
    lang: &'static str,
    size: u64,
    compile: Duration,
    instantiate: Duration,
    fresh_call: Duration,
    reused_call: Duration,
    memory: usize,
    large_call: Duration,
    large_memory: usize,
    language: Language,
    limits: waybill::plugins::Limits,
}

/// The median of `iters` runs of `f`.
fn median(iters: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..iters)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn iters() -> usize {
    std::env::var("WAYBILL_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// The portal `sample` case: the canonical event and its configuration.
fn sample() -> (Message, Arc<BTreeMap<String, String>>) {
    let fixtures = root().join("plugins/portal-visibility/fixtures");
    let body = std::fs::read(fixtures.join("sample.input.json")).expect("sample input");
    let call: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixtures.join("sample.call.json")).expect("sample call"),
    )
    .expect("call json");
    let config = call["config"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    (
        Message::new("shipment-event@1.0", "application/json", body),
        Arc::new(config),
    )
}

/// `msg` with a 1 MiB string in a field no mapping reads.
fn large(msg: &Message) -> Message {
    let mut doc: serde_json::Value = serde_json::from_slice(&msg.body).expect("sample json");
    doc["padding"] = serde_json::Value::String("x".repeat(1 << 20));
    Message::new(&msg.kind, &msg.content_type, doc.to_string())
}

fn measure(
    rt: &Arc<Runtime>,
    lang: &'static str,
    path: &Path,
    msg: &Message,
    config: &Arc<BTreeMap<String, String>>,
) -> Figures {
    let bytes = std::fs::read(path).expect("component");
    let compiles = std::env::var("WAYBILL_BENCH_COMPILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let compile = median(compiles, || {
        black_box(wasmtime::component::Component::new(rt.engine(), &bytes).expect("compile"));
    });
    let version = PluginVersion::load_bytes(rt, &bytes, Some(path.to_path_buf()), None)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let first = version.map(msg, config).expect("call");
    let outputs = first.result.expect("the sample maps");
    assert_eq!(outputs.len(), 1, "{lang}: one portal update");
    let n = iters();
    let instantiate = median(n, || {
        version.bench_instantiate(config).expect("instantiate")
    });
    let fresh_call = median(n, || {
        black_box(version.map(black_box(msg), config).expect("call"));
    });
    let mut reused = version.bench_reused(config).expect("instance");
    let reused_call = median(n, || {
        black_box(reused.map(black_box(msg)).expect("call").expect("maps"));
    });
    // The CPU deadline would stop a slow large call: measure it unbounded.
    let unbounded = PluginVersion::load_bytes(
        rt,
        &bytes,
        None,
        Some(waybill::plugins::Limits {
            cpu: Duration::from_secs(60),
            ..version.limits
        }),
    )
    .expect("load");
    let big = large(msg);
    let mut large_memory = 0;
    let large_call = median(5, || {
        let report = unbounded.map(&big, config).expect("large call");
        assert!(report.result.is_ok(), "{lang}: the large document maps");
        large_memory = report.stats.peak_memory_bytes;
    });
    Figures {
        lang,
        large_call,
        large_memory,
        size: bytes.len() as u64,
        compile,
        instantiate,
        fresh_call,
        reused_call,
        memory: first.stats.peak_memory_bytes,
        language: version.language,
        limits: version.limits,
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let rt = Runtime::new(RuntimeOptions {
        cache_dir: Some(root().join("target/waybill-test-cache")),
        ..Default::default()
    })
    .expect("runtime");
    let (msg, config) = sample();
    let native = waybill_sdk::config::with_config(
        &config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        || {
            median(iters().max(1000), || {
                black_box(portal_visibility::PortalVisibility::map(black_box(&msg)).expect("maps"));
            })
        },
    );
    let mut figures = Vec::new();
    for (lang, file) in COMPONENTS {
        let path = root().join("target/plugins").join(file);
        if !path.exists() {
            println!(
                "skipped: {lang}: {} is not built (`cargo xtask plugins` builds it where its toolchain is installed)",
                path.display()
            );
            continue;
        }
        let f = measure(&rt, lang, &path, &msg, &config);
        println!(
            "{lang}: {:.2} MiB, compile {:.0} ms, instantiate {}, call fresh {} / reused {}, memory {:.1} MiB",
            f.size as f64 / (1 << 20) as f64,
            f.compile.as_secs_f64() * 1e3,
            us(f.instantiate),
            us(f.fresh_call),
            us(f.reused_call),
            f.memory as f64 / (1 << 20) as f64
        );
        figures.push(f);
    }
    let Some(rust) = figures.iter().find(|f| f.lang == "Rust") else {
        println!("skipped: no Rust component to compare with: run `cargo xtask plugins`");
        return;
    };
    let (rust_fresh, rust_reused) = (rust.fresh_call, rust.reused_call);
    println!("\nnative Rust call (no Wasm): {}", us(native));
    println!(
        "\n| language | component | compile | instantiate | call, fresh instance | vs Rust | call, reused instance | vs Rust | memory after a call | 1 MiB document: call, memory | default limits (memory, CPU) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {:.2} MiB | {:.0} ms | {} | {} | {:.1}x | {} | {:.1}x | {:.1} MiB | {:.1} ms, {:.1} MiB | {} MiB, {} ms ({:?}) |",
            f.lang,
            f.size as f64 / (1 << 20) as f64,
            f.compile.as_secs_f64() * 1e3,
            us(f.instantiate),
            us(f.fresh_call),
            f.fresh_call.as_secs_f64() / rust_fresh.as_secs_f64(),
            us(f.reused_call),
            f.reused_call.as_secs_f64() / rust_reused.as_secs_f64(),
            f.memory as f64 / (1 << 20) as f64,
            f.large_call.as_secs_f64() * 1e3,
            f.large_memory as f64 / (1 << 20) as f64,
            f.limits.memory_bytes >> 20,
            f.limits.cpu.as_millis(),
            f.language,
        );
    }
}
