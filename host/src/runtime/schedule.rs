//! The periodic jobs a host runs by itself: reconciliation and each sync
//! job with a `schedule_secs`. Several hosts on one store each run the
//! schedule, and the store decides which one starts a period's run
//! ([`crate::store::CoordinationStore::claim_schedule`]); a host checks
//! several times per period, so when the host that usually wins dies,
//! another takes over within a fraction of the period.

use crate::context::App;
use crate::store::now_ms;
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

/// Runs `job` under schedule `name` every `period` across the hosts of the
/// store, until `shutdown`.
pub(crate) async fn run_scheduled<F, Fut>(
    app: Arc<App>,
    name: String,
    period: Duration,
    first: FirstRun,
    mut shutdown: watch::Receiver<bool>,
    job: F,
) where
    F: Fn(Arc<App>) -> Fut + Send,
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
        let due = app
            .store
            .claim_schedule(&name, now_ms(), period.as_millis() as i64, &app.host_id)
            .await;
        match due {
            Ok(true) => job(app.clone()).await,
            Ok(false) => {}
            Err(e) => tracing::warn!(schedule = %name, error = %e, "cannot check the schedule"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_every;
    use std::time::Duration;

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
