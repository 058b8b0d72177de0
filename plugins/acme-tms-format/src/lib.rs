//! Acme TMS formats shared by the Acme mapping plugins.
//!
//! Acme sends charges in two messages: the quote in its answer to a booking
//! (`quotedCharges`, read by `acme-tms-booking`) and the carrier's final
//! figures after delivery (`charges` of `CARRIER_CHARGES_FINAL`, read by
//! `acme-tms-charges`). Both lists use the same line shape, the same charge
//! codes and the same rules (decimal-string amounts in minor units of their
//! currency, negative discounts, one currency per list), so they are read
//! here once, as `plugins/x12` reads X12 once for the X12 plugins.
//!
//! This is a library, not a plugin: it has no `cdylib` target, so
//! `cargo xtask plugins` does not build it as a component.

mod charge_code;
mod charge_lines;

pub use charge_code::{CODES, to_charge_code};
pub use charge_lines::{ChargeLine, ChargeList, Charges, to_charges};
