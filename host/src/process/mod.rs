//! Processing: a stored message is mapped by its route's inbound plugin,
//! validated, routed, mapped per target by the outbound plugin, and the
//! results are written to the store in one transaction (outbox entries or
//! dead letters). Plugins are deterministic and what approval reads from the
//! store (the quote) is recorded with the message, so a crash at any point
//! is recovered by simply processing the message again, and
//! [`crate::replay`] re-runs a dead-lettered message through the active (or
//! a named) plugin version with the figures its first run saw.

mod processor;
mod quotes;
mod stages;
mod worker;

pub(crate) use processor::settle_leg;
pub use processor::{APPROVED_BY_HEADER, HOST_HEADER_PREFIX, Processor, Scope, VersionPin};
pub use quotes::QuoteBook;
pub use worker::{CommandProcessed, ProcessingHooks, run_processing};
