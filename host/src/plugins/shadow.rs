//! Shadow runs: a candidate version maps a copy of every message its
//! plugin maps, beside the active version, and the two answers are diffed
//! into a [`ShadowReport`]. The candidate's outputs go nowhere else: they
//! are never delivered, stored as deliveries or dead letters.
//!
//! The active path only hands a copy over: [`Shadows::offer`] puts a job
//! on a bounded queue that worker threads of their own drain, and drops it
//! (counted, by reason) when the queue is full or when the shadow has used
//! more than its share of the plugin time the active path spent
//! (`plugins.shadow.max_share`: shadow call time over active call time,
//! over a window that halves as it fills, queued work counted at the
//! active call's cost until it ran). A recorded replay uses the same
//! comparison inline ([`Shadows::inline`]): no queue, nothing dropped.

use super::diff::Ignore;
use super::loader::PluginVersion;
use super::outcome::PluginOutcome;
use super::shadow_report::{CallSite, ShadowReport, Side};
use super::state::PluginConfig;
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use waybill_sdk::{Message, Output};

/// How shadow work is bounded on a host (`[plugins.shadow]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShadowLimits {
    /// Shadow calls waiting at most; more are dropped (`queue-full`).
    pub queue: usize,
    /// Threads running shadow calls.
    pub workers: usize,
    /// Shadow call time allowed per unit of active call time; more is
    /// dropped (`budget`).
    pub max_share: f64,
}

impl Default for ShadowLimits {
    fn default() -> Self {
        Self {
            queue: 1024,
            workers: 1,
            max_share: 0.2,
        }
    }
}

/// What one shadow run compares with.
#[derive(Debug, Clone, Default)]
pub struct ShadowSettings {
    /// Pointers and member names the diff skips.
    pub ignore: Ignore,
    /// Differing examples kept.
    pub examples: usize,
}

/// Active plugin time (µs) after which the budget's window halves.
const WINDOW_US: u64 = 2_000_000;

/// Shadow call time against active call time, over a window.
#[derive(Debug, Default)]
struct Budget {
    active_us: u64,
    shadow_us: u64,
}

impl Budget {
    /// Whether a shadow call may be made after an active call of
    /// `active_us`; reserves `active_us` of shadow time when it may.
    fn admit(&mut self, active_us: u64, max_share: f64) -> bool {
        self.active_us = self.active_us.saturating_add(active_us);
        if self.active_us > WINDOW_US {
            self.active_us /= 2;
            self.shadow_us /= 2;
        }
        if self.shadow_us as f64 > self.active_us as f64 * max_share {
            return false;
        }
        self.shadow_us = self.shadow_us.saturating_add(active_us);
        true
    }

    /// Replaces a reservation of `reserved` µs by what the call took.
    fn settle(&mut self, reserved: u64, took: u64) {
        self.shadow_us = self.shadow_us.saturating_sub(reserved).saturating_add(took);
    }
}

/// One candidate shadowing its plugin on this host.
pub struct ShadowRun {
    /// The store's id of the run (0 offline).
    pub id: i64,
    /// The version compared with the active one.
    pub candidate: Arc<PluginVersion>,
    settings: ShadowSettings,
    report: Mutex<ShadowReport>,
    budget: Mutex<Budget>,
    dirty: AtomicBool,
}

impl ShadowRun {
    /// A run of `candidate`, continuing `resumed` (what this host counted
    /// for the run before it restarted).
    pub fn new(
        id: i64,
        candidate: Arc<PluginVersion>,
        settings: ShadowSettings,
        resumed: ShadowReport,
    ) -> Arc<Self> {
        Arc::new(Self {
            id,
            candidate,
            settings,
            report: Mutex::new(resumed),
            budget: Mutex::default(),
            dirty: AtomicBool::new(false),
        })
    }

    /// The report so far.
    pub fn report(&self) -> ShadowReport {
        self.report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether it changed since the last call (for saving it).
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }

    /// The most examples it keeps.
    pub fn max_examples(&self) -> usize {
        self.settings.examples
    }

    fn update(&self, f: impl FnOnce(&mut ShadowReport)) {
        f(&mut self.report.lock().unwrap_or_else(|p| p.into_inner()));
        self.dirty.store(true, Ordering::Release);
    }

    fn admit(&self, active_us: u64, max_share: f64) -> bool {
        self.budget
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(active_us, max_share)
    }

    fn settle(&self, reserved: u64, took: u64) {
        self.budget
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .settle(reserved, took);
    }

    fn dropped(&self, reason: &str) {
        tracing::debug!(plugin = %self.candidate.label(), reason, "shadow call dropped");
        self.update(|r| r.drop_call(reason));
    }

    /// Calls the candidate on `job` and counts the comparison.
    fn compare(&self, job: &Job) -> u64 {
        let called = self.candidate.call_map(&job.input, &job.config);
        let site = CallSite {
            correlation_id: &job.input.correlation_id,
            route: &job.route,
            stage: &job.stage,
        };
        let candidate = Side::of(&called.result);
        let now = now_ms();
        self.update(|r| {
            r.record(
                site,
                &job.active,
                job.active_us,
                &candidate,
                called.elapsed_us,
                &self.settings.ignore,
                self.settings.examples,
                now,
            )
        });
        called.elapsed_us
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A copy of one active call, for the candidate.
struct Job {
    run: Arc<ShadowRun>,
    input: Message,
    config: PluginConfig,
    route: String,
    stage: String,
    active: Side,
    active_us: u64,
}

/// One active call as the processor offers it.
pub struct ActiveCall<'a> {
    /// The version that handled it.
    pub version: &'a PluginVersion,
    /// Its input.
    pub input: &'a Message,
    /// The route's plugin configuration.
    pub config: &'a PluginConfig,
    /// Route name.
    pub route: &'a str,
    /// Stage (`inbound`, `outbound:<target>`, `enrich:<target>`).
    pub stage: &'a str,
    /// What it came to.
    pub outcome: &'a PluginOutcome<Vec<Output>>,
    /// Whether a replay pinned the version (live shadows skip those).
    pub pinned: bool,
}

enum Mode {
    /// Off the processing path, bounded.
    Queued {
        limits: ShadowLimits,
        sender: OnceLock<SyncSender<Job>>,
    },
    /// In the caller's thread (offline replays).
    Inline,
}

/// The shadow runs of one host, by plugin name.
pub struct Shadows {
    runs: ArcSwap<BTreeMap<String, Arc<ShadowRun>>>,
    mode: Mode,
}

impl Shadows {
    /// Shadows run by `limits.workers` threads off the processing path
    /// (started with the first run).
    pub fn queued(limits: ShadowLimits) -> Arc<Self> {
        Arc::new(Self {
            runs: ArcSwap::default(),
            mode: Mode::Queued {
                limits,
                sender: OnceLock::new(),
            },
        })
    }

    /// Shadows compared in the caller's thread, pinned calls included.
    pub fn inline() -> Arc<Self> {
        Arc::new(Self {
            runs: ArcSwap::default(),
            mode: Mode::Inline,
        })
    }

    /// Starts (or replaces) the run of its candidate's plugin.
    pub fn install(&self, run: Arc<ShadowRun>) {
        if let Mode::Queued { limits, sender } = &self.mode {
            sender.get_or_init(|| start_workers(*limits));
        }
        let name = run.candidate.id.name.clone();
        tracing::info!(plugin = %name, candidate = %run.candidate.label(), run = run.id, "shadow run started on this host");
        self.runs.rcu(|runs| {
            let mut runs = BTreeMap::clone(runs);
            runs.insert(name.clone(), run.clone());
            runs
        });
    }

    /// Stops the run of `plugin`; returns it (calls queued still finish).
    pub fn remove(&self, plugin: &str) -> Option<Arc<ShadowRun>> {
        let previous = self.runs.load().get(plugin).cloned();
        self.runs.rcu(|runs| {
            let mut runs = BTreeMap::clone(runs);
            runs.remove(plugin);
            runs
        });
        previous
    }

    /// The run of `plugin`, if one is running here.
    pub fn get(&self, plugin: &str) -> Option<Arc<ShadowRun>> {
        self.runs.load().get(plugin).cloned()
    }

    /// Every run on this host, by plugin.
    pub fn runs(&self) -> Vec<(String, Arc<ShadowRun>)> {
        self.runs
            .load()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Offers an active call to the shadow of its plugin, if there is one.
    pub fn offer(&self, call: ActiveCall<'_>) {
        let runs = self.runs.load();
        if runs.is_empty() {
            return;
        }
        let Some(run) = runs.get(&call.version.id.name) else {
            return;
        };
        if run.candidate.id.sha256 == call.version.id.sha256 {
            return;
        }
        let job = |run: &Arc<ShadowRun>| Job {
            run: run.clone(),
            input: call.input.clone(),
            config: call.config.clone(),
            route: call.route.to_string(),
            stage: call.stage.to_string(),
            active: Side::of(&call.outcome.result),
            active_us: call.outcome.elapsed_us,
        };
        match &self.mode {
            Mode::Inline => {
                run.compare(&job(run));
            }
            Mode::Queued { limits, sender } => {
                if call.pinned {
                    return;
                }
                let Some(sender) = sender.get() else {
                    return;
                };
                let reserved = call.outcome.elapsed_us;
                if !run.admit(reserved, limits.max_share) {
                    run.dropped("budget");
                    return;
                }
                match sender.try_send(job(run)) {
                    Ok(()) => {}
                    Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                        job.run.settle(reserved, 0);
                        job.run.dropped("queue-full");
                    }
                }
            }
        }
    }
}

/// Starts the worker threads; they end when the sender is dropped.
fn start_workers(limits: ShadowLimits) -> SyncSender<Job> {
    let (tx, rx) = sync_channel::<Job>(limits.queue.max(1));
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..limits.workers.max(1) {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("waybill-shadow-{i}"))
            .spawn(move || work(&rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a shadow worker");
        }
    }
    tx
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(job) = next else {
            return;
        };
        let took = job.run.compare(&job);
        job.run.settle(job.active_us, took);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_admits_the_configured_share_of_active_time() {
        // The candidate costs what the active version costs: half a share
        // admits every other call once the first (always admitted) ran.
        let mut b = Budget::default();
        let admitted = (0..10)
            .filter(|_| {
                let ok = b.admit(100, 0.5);
                if ok {
                    b.settle(100, 100);
                }
                ok
            })
            .count();
        assert_eq!(admitted, 6);
        // A candidate ten times cheaper stays within a fifth: every call.
        let mut b = Budget::default();
        let admitted = (0..10)
            .filter(|_| {
                let ok = b.admit(100, 0.2);
                if ok {
                    b.settle(100, 10);
                }
                ok
            })
            .count();
        assert_eq!(admitted, 10);
    }

    #[test]
    fn the_window_halves_so_old_credit_does_not_pile_up() {
        let mut b = Budget::default();
        assert!(b.admit(WINDOW_US, 0.1));
        b.settle(WINDOW_US, 0);
        assert!(b.admit(1, 0.1), "past the window both sides halve");
        assert!(b.active_us <= WINDOW_US);
    }
}
