//! Conformance of [`CoordinationStore`]: an exclusive lock is held by one
//! caller until its guard drops; a schedule is claimed once per period.

use super::super::*;
use super::{StoreFactory, T0, fresh};

/// A second caller does not get a held lock, gets it once the holder
/// lets go; locks of other names are independent.
pub async fn an_exclusive_lock_is_held_until_its_guard_drops(factory: &dyn StoreFactory) {
    let (store, _clock) = fresh(factory).await;
    let held = store
        .try_exclusive("reconcile")
        .await
        .expect("try")
        .expect("free at first");
    assert!(
        store
            .try_exclusive("reconcile")
            .await
            .expect("try")
            .is_none(),
        "held"
    );
    let other = store
        .try_exclusive("sync.customers")
        .await
        .expect("try")
        .expect("another name is its own lock");
    drop(held);
    let again = wait_for_lock(store.as_ref(), "reconcile").await;
    assert!(again.is_some(), "free once the guard dropped");
    drop(other);
}

/// A released lock may take its backend a moment to free (a database
/// session closing): asks for up to 5 s.
async fn wait_for_lock(store: &dyn Store, name: &str) -> Option<ExclusiveGuard> {
    for _ in 0..100 {
        if let Some(g) = store.try_exclusive(name).await.expect("try") {
            return Some(g);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}

/// The first claim of a schedule runs; another within the period does
/// not, whoever asks; the first after the period does; schedules of other
/// names are independent.
pub async fn a_schedule_is_claimed_once_per_period(factory: &dyn StoreFactory) {
    let (store, _clock) = fresh(factory).await;
    let period = 60_000;
    assert!(
        store
            .claim_schedule("recon", T0, period, "h1")
            .await
            .expect("claim")
    );
    assert!(
        !store
            .claim_schedule("recon", T0 + 10, period, "h2")
            .await
            .expect("claim")
    );
    assert!(
        !store
            .claim_schedule("recon", T0 + period - 1, period, "h1")
            .await
            .expect("claim")
    );
    assert!(
        store
            .claim_schedule("sync.a", T0 + 10, period, "h2")
            .await
            .expect("claim")
    );
    assert!(
        store
            .claim_schedule("recon", T0 + period, period, "h2")
            .await
            .expect("claim")
    );
    assert!(
        !store
            .claim_schedule("recon", T0 + period + 5, period, "h1")
            .await
            .expect("claim")
    );
}
