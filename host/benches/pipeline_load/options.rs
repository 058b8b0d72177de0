//! Which phases to run: `--store` / `--hosts` after `--` (or
//! `WAYBILL_BENCH_STORE` / `WAYBILL_BENCH_HOSTS`) and `WAYBILL_BENCH_PHASES`.

use crate::PHASES;

/// The SQLite phases the PostgreSQL rows are compared with, when
/// `WAYBILL_BENCH_PHASES` does not name others.
const COMPARED_WITH: &[&str] = &["floor", "pipeline"];

/// Host counts when `--store postgres` comes without `--hosts`.
const DEFAULT_HOSTS: &[usize] = &[1];

/// The phase of `hosts` host processes on one PostgreSQL database.
pub fn postgres_phase(hosts: usize) -> String {
    format!("postgres-{hosts}")
}

/// The number of hosts of a `postgres-<n>` phase, `None` for the others.
pub fn postgres_hosts(phase: &str) -> Option<usize> {
    phase
        .strip_prefix("postgres-")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= 1)
}

const USAGE: &str = "usage: cargo bench -p waybill --bench pipeline_load [-- --store sqlite|postgres [--hosts 1,2,3]]";

/// The phases in run order, from the command line and the environment;
/// without either, every SQLite phase as before.
pub fn phases() -> Vec<String> {
    let mut store = std::env::var("WAYBILL_BENCH_STORE").ok();
    let mut hosts = std::env::var("WAYBILL_BENCH_HOSTS").ok();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        let slot = match name.as_str() {
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => continue,
            "--store" => &mut store,
            "--hosts" => &mut hosts,
            other => panic!("unknown argument {other:?}\n{USAGE}"),
        };
        let value = inline
            .or_else(|| args.next())
            .unwrap_or_else(|| panic!("{name} needs a value\n{USAGE}"));
        *slot = Some(value);
    }
    let hosts: Option<Vec<usize>> = hosts.filter(|h| !h.trim().is_empty()).map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| match h.parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => panic!("--hosts: {h:?} is not a host count (1 or more)\n{USAGE}"),
            })
            .collect()
    });
    let named = std::env::var("WAYBILL_BENCH_PHASES")
        .or_else(|_| std::env::var("WAYBILL_BENCH_PHASE"))
        .ok();
    let named: Option<Vec<String>> = named.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    });
    // Host counts are a PostgreSQL matter: `--hosts` alone implies it.
    let store = match store.as_deref().map(str::trim) {
        None | Some("") if hosts.is_some() => Some("postgres".to_string()),
        _ => store,
    };
    match store.as_deref().map(str::trim) {
        None | Some("") | Some("sqlite") => {
            if let Some(h) = hosts.as_ref().filter(|h| h.iter().any(|n| *n != 1)) {
                panic!(
                    "--hosts {h:?}: the SQLite store serves one host; use --store postgres\n{USAGE}"
                );
            }
            named.unwrap_or_else(|| PHASES.iter().map(|p| p.to_string()).collect())
        }
        Some("postgres") => {
            let mut phases =
                named.unwrap_or_else(|| COMPARED_WITH.iter().map(|p| p.to_string()).collect());
            for n in hosts.as_deref().unwrap_or(DEFAULT_HOSTS) {
                let phase = postgres_phase(*n);
                if !phases.contains(&phase) {
                    phases.push(phase);
                }
            }
            phases
        }
        Some(other) => panic!("--store {other:?}: expected sqlite or postgres\n{USAGE}"),
    }
}
