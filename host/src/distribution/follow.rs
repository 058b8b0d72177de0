//! The loop every follower of the store's plugin decisions runs (the
//! activations in `converge.rs`, the canaries in `canary.rs`): a round on
//! every plugin notification a shared store sends, and one every period
//! as the fallback, until shutdown.

use crate::store::WakeEvent;
use std::future::Future;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Why a round runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Round {
    /// A plugin notification arrived (or some were lost): look now.
    Woken,
    /// The period passed; the number of periods so far.
    Tick(u64),
}

/// Calls `round` on every [`WakeEvent::Plugins`] in `wakes` (a lagging
/// receiver counts as one) and every `period` until `shutdown`. The first
/// tick is one period away: start-up converged already.
pub(super) async fn follow<F, Fut>(
    mut wakes: Option<broadcast::Receiver<WakeEvent>>,
    mut shutdown: watch::Receiver<bool>,
    period: Duration,
    mut round: F,
) where
    F: FnMut(Round) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    loop {
        let why = tokio::select! {
            _ = tick.tick() => {
                ticks += 1;
                Round::Tick(ticks)
            }
            event = recv(&mut wakes) => match event {
                Ok(WakeEvent::Plugins) | Err(broadcast::error::RecvError::Lagged(_)) => Round::Woken,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Closed) => {
                    wakes = None;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        round(why).await;
    }
}

/// The next event of `wakes`, or never without one.
async fn recv(
    wakes: &mut Option<broadcast::Receiver<WakeEvent>>,
) -> Result<WakeEvent, broadcast::error::RecvError> {
    match wakes {
        Some(w) => w.recv().await,
        None => std::future::pending().await,
    }
}
