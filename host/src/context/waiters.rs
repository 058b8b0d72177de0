//! Wake-ups for callers waiting on a synchronous command: the delivery
//! worker that records a command's answer wakes the request handler that
//! holds the caller's connection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Command handle -> the handler waiting for it.
#[derive(Default)]
pub struct CommandWaiters {
    waiting: Mutex<HashMap<String, Arc<Notify>>>,
}

impl CommandWaiters {
    /// Registers interest in `handle`; wait on the returned `Notify`.
    pub fn wait(&self, handle: &str) -> Arc<Notify> {
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(handle.to_string())
            .or_default()
            .clone()
    }

    /// Wakes whoever waits for `handle` (a no-op when nobody does).
    pub fn done(&self, handle: &str) {
        if let Some(n) = self
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(handle)
        {
            n.notify_waiters();
        }
    }

    /// Drops the registration once the handler stops waiting.
    pub fn forget(&self, handle: &str) {
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(handle);
    }
}
