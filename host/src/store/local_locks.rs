//! Named exclusive locks inside one process, for a store only one host
//! uses (SQLite): a reconciliation run or a sync job holds its name while
//! it runs, so an on-demand run and a scheduled one never overlap.

use super::model::ExclusiveGuard;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Lock name -> its lock; an entry lives as long as the store.
#[derive(Default)]
pub(crate) struct LocalLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl LocalLocks {
    /// The lock `name` if it is free.
    pub(crate) fn try_exclusive(&self, name: &str) -> Option<ExclusiveGuard> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone();
        lock.try_lock_owned().ok().map(ExclusiveGuard::new)
    }
}
