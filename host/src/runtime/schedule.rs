//! The periodic jobs a host runs by itself: reconciliation and each sync
//! job with a `schedule_secs`. Several hosts on one store each run the
//! schedule, and the store decides which one starts a period's run
//! ([`crate::store::CoordinationStore::claim_schedule`]); a host checks
//! several times per period, so when the host that usually wins dies,
//! another takes over within a fraction of the period.

use crate::store::{Store, now_ms};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// When the first check happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstRun {
    /// At start (a sync job: a fresh host brings its reference data up to
    /// date unless a run started within the period).
    AtStart,
    /// One period after start (reconciliation: the pipeline has something
    /// to compare first).
    AfterPeriod,
}

/// How often a host asks whether a run of period `period` is due.
fn check_every(period: Duration) -> Duration {
    (period / 4).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

/// Runs `job` under schedule `name` every `period` across the hosts of
/// `store` (this one is `host`), until `shutdown`.
pub(crate) async fn run_scheduled<F, Fut>(
    store: Arc<dyn Store>,
    host: String,
    name: String,
    period: Duration,
    first: FirstRun,
    mut shutdown: watch::Receiver<bool>,
    job: F,
) where
    F: Fn() -> Fut + Send,
    Fut: std::future::Future<Output = ()> + Send,
{
    let period = period.max(Duration::from_secs(1));
    if first == FirstRun::AfterPeriod {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = shutdown.changed() => return,
        }
    }
    let mut tick = tokio::time::interval(check_every(period));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        let due = store
            .claim_schedule(&name, now_ms(), period.as_millis() as i64, &host)
            .await;
        match due {
            Ok(true) => job().await,
            Ok(false) => {}
            Err(e) => tracing::warn!(schedule = %name, error = %e, "cannot check the schedule"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{FirstRun, check_every, run_scheduled};
    use crate::store::Store;
    use crate::store::sqlite::{SqliteOptions, SqliteStore};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// Two hosts on one store, each running the same 1 s schedule: the
    /// job runs once per period in all, not once per host and period.
    #[tokio::test]
    async fn two_hosts_on_one_store_run_a_schedule_once_per_period() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store: Arc<dyn Store> = SqliteStore::open(&SqliteOptions {
            path: dir.path().join("s.db"),
            group_commit_max: 16,
            host: "test-host".into(),
        })
        .expect("store");
        let runs = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let started = Instant::now();
        let hosts: Vec<_> = ["h1", "h2"]
            .into_iter()
            .map(|host| {
                let runs = runs.clone();
                tokio::spawn(run_scheduled(
                    store.clone(),
                    host.to_string(),
                    "sync.customers".to_string(),
                    Duration::from_secs(1),
                    FirstRun::AtStart,
                    stopped.clone(),
                    move || {
                        let runs = runs.clone();
                        async move {
                            runs.fetch_add(1, Ordering::SeqCst);
                        }
                    },
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(3500)).await;
        stop.send(true).expect("stop");
        for h in hosts {
            h.await.expect("host");
        }
        let periods = started.elapsed().as_secs() as usize + 1;
        let runs = runs.load(Ordering::SeqCst);
        assert!(runs >= 1, "the first check runs the job");
        assert!(
            runs <= periods,
            "{runs} runs in {periods} periods: two hosts ran the same period"
        );
    }

    #[test]
    fn checks_a_few_times_per_period_within_bounds() {
        assert_eq!(check_every(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(
            check_every(Duration::from_secs(60)),
            Duration::from_secs(15)
        );
        assert_eq!(
            check_every(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
    }
}
