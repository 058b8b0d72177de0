//! The sync patterns on top of the pipeline: synchronous commands (waiting
//! callers, mapping the target's answer back), the exception queue's
//! actions, compensating workflows and reference-data synchronisation.

pub mod compensation;
pub mod exceptions;
mod hooks;
pub mod reconcile;
pub mod sync;
mod waiters;

pub use exceptions::{Action, ActionError, ActionRequest, act};
pub use hooks::FlowHooks;
pub use waiters::CommandWaiters;
