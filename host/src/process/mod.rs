//! Processing: a stored message is mapped by its route's inbound plugin,
//! validated, routed, mapped per target by the outbound plugin, and the
//! results are written to the store in one transaction (outbox entries or
//! dead letters). Plugins are deterministic, so a crash at any point is
//! recovered by simply processing the message again; [`crate::replay`]
//! re-runs a dead-lettered message through the active (or a named) plugin
//! version.

mod processor;
mod stages;
mod worker;

pub(crate) use processor::settle_leg;
pub use processor::{
    APPROVED_BY_HEADER, BUSINESS_KEY_HEADER, COMMAND_HEADER, Processor, Scope, VersionPin,
};
pub use worker::run_processing;
