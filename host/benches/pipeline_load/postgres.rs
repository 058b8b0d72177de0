//! The PostgreSQL phases' database: a fresh schema per phase (dropped
//! afterwards) and the CPU time the PostgreSQL server spends meanwhile.

use crate::cpu_ms;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The database the PostgreSQL phases run in.
const ENV: &str = "WAYBILL_BENCH_POSTGRES";
/// Read when [`ENV`] is not set: the database the tests use.
const TEST_ENV: &str = "WAYBILL_TEST_POSTGRES";
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// How long connecting to the database may take before the phase fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server's processes are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(500);

/// The base URL: `WAYBILL_BENCH_POSTGRES`, else `WAYBILL_TEST_POSTGRES`,
/// else the local default.
pub fn base_url() -> String {
    [ENV, TEST_ENV]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

/// `url` without its password, for messages.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "(unparsable PostgreSQL URL)".to_string(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A connection to `url`, or a message naming the (redacted) URL.
async fn connect(url: &str, application_name: &str) -> Result<tokio_postgres::Client, String> {
    let fail = |e: &dyn std::fmt::Display| {
        format!(
            "PostgreSQL at {} is unreachable: {e} (set {ENV} to the database to use)",
            redacted(url)
        )
    };
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| fail(&chain(&e)))?;
    config
        .connect_timeout(CONNECT_TIMEOUT)
        .application_name(application_name);
    let connecting = config.connect(tokio_postgres::NoTls);
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| fail(&format!("no connection after {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| fail(&chain(&e)))?;
    tokio::spawn(connection);
    Ok(client)
}

/// `e` and its sources, `: `-separated.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// A schema of its own for one phase, dropped with the guard.
pub struct Schema {
    base: String,
    name: String,
}

impl Schema {
    /// Creates `wb_bench_<uuid>` in the database at `base`; panics with a
    /// message naming `phase` and the URL if it cannot.
    pub fn create(phase: &str, base: &str) -> Self {
        let name = format!("wb_bench_{}", uuid::Uuid::new_v4().simple());
        let made = runtime().block_on(async {
            let client = connect(base, "waybill-bench").await?;
            client
                .batch_execute(&format!("CREATE SCHEMA {name}"))
                .await
                .map_err(|e| format!("CREATE SCHEMA in {}: {}", redacted(base), chain(&e)))
        });
        if let Err(e) = made {
            panic!("phase {phase}: {e}");
        }
        Self {
            base: base.to_string(),
            name,
        }
    }

    /// The name the hosts' connections carry (`application_name`): their
    /// backends are told apart from other clients' by it.
    pub fn application_name(&self) -> String {
        format!("bench-{}", self.name)
    }

    /// The URL whose connections use this schema (`search_path`) and
    /// carry [`Self::application_name`].
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-csearch_path%3D{}&application_name={}",
            self.base,
            self.name,
            self.application_name()
        )
    }
}

impl Schema {
    /// What the phase left in the store, on stderr: whether a message sent
    /// again was processed twice (two outbox rows) or sent twice (one row,
    /// several attempts).
    pub fn print_tally(&self, phase: &str) {
        let url = self.url();
        let tally = runtime().block_on(async {
            let client = connect(&url, "waybill-bench").await?;
            let row = client
                .query_one(
                    "SELECT (SELECT count(*) FROM messages),
                            (SELECT count(*) FROM outbox),
                            (SELECT count(DISTINCT message_id) FROM outbox),
                            (SELECT coalesce(sum(attempts), 0)::BIGINT FROM outbox),
                            (SELECT count(*) FROM processing)",
                    &[],
                )
                .await
                .map_err(|e| chain(&e))?;
            Ok::<_, String>((0..5).map(|i| row.get::<_, i64>(i)).collect::<Vec<_>>())
        });
        match tally.as_deref() {
            Ok([messages, outbox, distinct, attempts, runs]) => eprintln!(
                "   {phase}: store: {messages} messages, {outbox} outbox rows for {distinct} of them, {attempts} attempts recorded, {runs} plugin runs"
            ),
            Ok(_) => {}
            Err(e) => eprintln!("   {phase}: store tally: {e}"),
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let dropped = runtime().block_on(async {
            let client = connect(&self.base, "waybill-bench").await?;
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
                .await
                .map_err(|e| e.to_string())
        });
        if let Err(e) = dropped {
            eprintln!("   could not drop schema {}: {e}", self.name);
        }
    }
}

/// CPU time of the PostgreSQL server's processes over a phase, in ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerCpu {
    /// Backends serving the phase's hosts (their `application_name`).
    pub backends_ms: u64,
    /// The postmaster and background processes (WAL writer, checkpointer,
    /// autovacuum, ...): shared by every client of the server.
    pub background_ms: u64,
    /// Backends of other clients (not counted in the figures; a warning).
    pub others_ms: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Ours,
    Background,
    Other,
}

/// Samples the PostgreSQL server's processes (found through
/// `pg_stat_activity`, read in `/proc/<pid>/stat`) until stopped.
pub struct CpuSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Option<ServerCpu>>,
}

impl CpuSampler {
    /// Starts sampling the server at `base` for backends named `ours`.
    pub fn start(base: &str, ours: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let base = base.to_string();
        let stopped = stop.clone();
        let (ready, started) = std::sync::mpsc::channel();
        let thread =
            std::thread::spawn(move || runtime().block_on(sample(&base, &ours, &stopped, ready)));
        // The first sample is the baseline: taken before the hosts start.
        let _ = started.recv();
        Self { stop, thread }
    }

    /// The CPU used since the start; `None` when the server's processes
    /// cannot be read here (another machine, another user's /proc).
    pub fn stop(self) -> Option<ServerCpu> {
        self.stop.store(true, Ordering::Release);
        self.thread.join().unwrap_or(None)
    }
}

/// Whether `/proc/<pid>` is a PostgreSQL process on this machine.
fn is_postgres(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.contains("(postgres)") || s.contains("(postmaster)"))
}

/// The parent pid of `pid` (field 4 of /proc/<pid>/stat).
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn sample(
    base: &str,
    ours: &str,
    stop: &AtomicBool,
    ready: std::sync::mpsc::Sender<()>,
) -> Option<ServerCpu> {
    let client = match connect(base, "waybill-bench-sampler").await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("   PostgreSQL CPU: n/a ({e})");
            return None;
        }
    };
    // pid -> (class, CPU at first sight, CPU at last sight).
    let mut seen: HashMap<u32, (Class, u64, u64)> = HashMap::new();
    let mut first = true;
    loop {
        let done = stop.load(Ordering::Acquire);
        let rows = client
            .query(
                "SELECT pid, coalesce(backend_type, ''), coalesce(application_name, '')
                 FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
                &[],
            )
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                eprintln!("   PostgreSQL CPU: n/a (pg_stat_activity: {e})");
                return None;
            }
        };
        let mut procs: Vec<(u32, Class)> = rows
            .iter()
            .filter_map(|row| {
                let pid = u32::try_from(row.get::<_, i32>(0)).ok()?;
                let kind: String = row.get(1);
                let app: String = row.get(2);
                let class = if app.starts_with(ours) {
                    Class::Ours
                } else if kind == "client backend" {
                    Class::Other
                } else {
                    Class::Background
                };
                Some((pid, class))
            })
            .collect();
        // The postmaster: the parent of the background processes.
        if let Some(pm) = procs
            .iter()
            .find(|(_, c)| *c == Class::Background)
            .and_then(|(pid, _)| parent(*pid))
        {
            procs.push((pm, Class::Background));
        }
        if first && !procs.iter().any(|(pid, _)| is_postgres(*pid)) {
            eprintln!(
                "   PostgreSQL CPU: n/a (the server's processes are not readable in /proc here)"
            );
            return None;
        }
        for (pid, class) in procs {
            if !is_postgres(pid) {
                continue;
            }
            let now = cpu_ms(pid);
            // A process born during the phase spent all its CPU in it.
            let at_start = if first { now } else { 0 };
            seen.entry(pid)
                .and_modify(|e| e.2 = e.2.max(now))
                .or_insert((class, at_start, now));
        }
        if first {
            let _ = ready.send(());
        }
        first = false;
        if done {
            break;
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    let mut cpu = ServerCpu::default();
    for (class, start, last) in seen.values() {
        let used = last.saturating_sub(*start);
        match class {
            Class::Ours => cpu.backends_ms += used,
            Class::Background => cpu.background_ms += used,
            Class::Other => cpu.others_ms += used,
        }
    }
    Some(cpu)
}
