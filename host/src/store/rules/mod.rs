//! The domain rules a backend applies while it writes, as pure functions:
//! a backend reads the rows a rule needs (the last watermark, who holds a
//! fingerprint, an exception's state), asks the rule what to write, and
//! writes it. Every backend applies the same rules, so a second backend
//! only writes rows. They live beside the traits, not in a stage folder,
//! because the backends call them (a stage folder above the store would
//! make an import cycle).

pub mod charge_fingerprint;
pub mod confirmation;
pub mod deferred_rows;
pub mod exception_rules;
pub mod order_guard;
pub mod poison;
