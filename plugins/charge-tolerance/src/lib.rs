//! Validator: do a charge package's final figures stay within tolerance of
//! the quote?
//!
//! Carriers' final charges drift from what was quoted at booking (fuel index
//! moves, accessorials appear). Small drift is normal; large drift or charges
//! nobody quoted must be looked at before anything is billed. This plugin
//! compares a `charge-package@1.0`'s `charges` (final or billed figures) with
//! its `reference_charges` (the quote) and lists every problem.
//!
//! # The tolerance rule
//!
//! Configuration (per route): `tolerance_percent` (default `5`, up to two
//! decimals, 0 to 100) and `tolerance_minor` (default `2500`, a whole number
//! of minor units of the package currency, so $25.00 for USD). Bad values are
//! `invalid-input` naming `config/<key>`.
//!
//! For a quoted amount `q` and a final amount `f`, the allowed difference is
//! `max(floor(|q| * percent / 100), tolerance_minor)` and `|f - q|` must not
//! exceed it (under-runs count like over-runs: a dropped charge is as much a
//! mismatch as an added one). All arithmetic is integer.
//!
//! The rule is applied
//! - per charge code: lines of one code are summed on each side (`OTHER`
//!   lines are told apart by their `source_code`); a quoted code missing from
//!   the final figures counts as final 0;
//! - to the total of the quoted codes: the final lines of quoted codes against
//!   the quote total, so many small drifts cannot add up unnoticed. Unquoted
//!   charges are left out of it, as each is already reported on its own.
//!
//! # Violations
//! - `missing-quote` at `/reference_charges`: nothing to compare against;
//! - `currency-mismatch` at `/charges/<i>/currency` or
//!   `/reference_charges/<i>/currency`: a line not in the package currency
//!   (amounts are then not compared);
//! - `total-mismatch` at `/total_minor`: `total_minor` is not the sum of the
//!   charges;
//! - `unquoted-charge` at `/charges/<i>/code`: a final line whose code was not
//!   quoted, whatever its amount;
//! - `over-tolerance` at `/charges/<i>/amount_minor` (first line of the code),
//!   `/reference_charges/<i>/amount_minor` (quoted but not charged) or
//!   `/total_minor`, the message giving both amounts and the allowed
//!   difference.

mod check;
mod key;
mod money;
mod tolerance;

use waybill_sdk::canonical::{CHARGE_PACKAGE, ChargePackage};
use waybill_sdk::{Document, Plugin, PluginError, PluginInfo, Violation};

/// The charge quote tolerance validator.
pub struct ChargeTolerance;

impl Plugin for ChargeTolerance {
    fn describe() -> PluginInfo {
        PluginInfo::validator(
            "charge-tolerance",
            env!("CARGO_PKG_VERSION"),
            &[CHARGE_PACKAGE],
        )
        .with_config_keys(&[tolerance::PERCENT_KEY, tolerance::MINOR_KEY])
    }

    fn validate(doc: &Document) -> Result<Vec<Violation>, PluginError> {
        // Minor versions only add optional fields, so any 1.x is readable.
        if !doc.schema_id.starts_with("charge-package@1.") {
            return Err(PluginError::unsupported(format!(
                "charge-tolerance validates {CHARGE_PACKAGE} documents, not {:?}",
                doc.schema_id
            )));
        }
        let tolerance = tolerance::Tolerance::from_config()?;
        let package: ChargePackage = doc.json()?;
        Ok(check::check(&package, &tolerance))
    }
}

waybill_sdk::export!(ChargeTolerance);
