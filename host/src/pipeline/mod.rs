//! Processing: a stored message is mapped by its route's inbound plugin,
//! routed, mapped per target by the outbound plugin, and the results are
//! written to the store in one transaction (outbox entries or dead letters).
//! Plugins are deterministic, so a crash at any point is recovered by simply
//! processing the message again; replay re-runs a dead-lettered message
//! through the active (or a named) plugin version.

mod process;
mod replay;
mod stages;
mod worker;

pub(crate) use process::settle_leg;
pub use process::{
    APPROVED_BY_HEADER, BUSINESS_KEY_HEADER, COMMAND_HEADER, Processor, Scope, VersionPin,
};
pub use replay::{ALREADY_REPLAYED, ReplayError, ReplayReport, replay, replay_key};
pub use worker::run_processing;
