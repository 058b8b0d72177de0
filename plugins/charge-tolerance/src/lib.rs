//! Validator: do a charge package's final figures, or an invoice's billed
//! lines, stay within tolerance of the quote?
//!
//! Carriers' final charges drift from what was quoted at booking (fuel index
//! moves, accessorials appear), and so can what billing invoices. Small drift
//! is normal; large drift or charges nobody quoted must be looked at before
//! anything is billed or posted. This plugin compares a
//! `charge-package@1.x`'s `charges` (final or billed figures), or an
//! `invoice@1.x`'s `lines` (code and `amount_minor`; taxes excluded), with
//! the document's `reference_charges` (the quote) and lists every problem.
//! Both documents go through the same rules and violation codes; only the
//! pointers differ (`/lines/<i>/...` instead of `/charges/<i>/...`). An
//! invoice line is compared in the invoice currency, and an `OTHER` line is
//! told apart by its `item_code`.
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
//!   charges (an invoice: of the lines and taxes; and at `/subtotal_minor`,
//!   when present, not the sum of the lines);
//! - `unquoted-charge` at `/charges/<i>/code` (`/lines/<i>/code`): a line
//!   whose code was not quoted, whatever its amount;
//! - `over-tolerance` at `/charges/<i>/amount_minor` (`/lines/<i>/...`; first
//!   line of the code), `/reference_charges/<i>/amount_minor` (quoted but not
//!   charged) or, for the quoted codes' total, `/total_minor` (an invoice:
//!   `/subtotal_minor`, else `/lines`), the message giving both amounts and
//!   the allowed difference.

mod check;
mod key;
mod money;
mod subject;
mod tolerance;

use subject::Subject;
use waybill_sdk::canonical::{CHARGE_PACKAGE, ChargePackage, INVOICE, Invoice, is_version_of};
use waybill_sdk::{Document, Plugin, PluginError, PluginInfo, Violation};

/// The charge quote tolerance validator.
pub struct ChargeTolerance;

impl Plugin for ChargeTolerance {
    fn describe() -> PluginInfo {
        PluginInfo::validator(
            "charge-tolerance",
            env!("CARGO_PKG_VERSION"),
            &[CHARGE_PACKAGE, INVOICE, "invoice@1.0"],
        )
        .with_config_keys(&[tolerance::PERCENT_KEY, tolerance::MINOR_KEY])
    }

    fn validate(doc: &Document) -> Result<Vec<Violation>, PluginError> {
        // Minor versions only add optional fields, so any 1.x is readable.
        let is_package = is_version_of(&doc.schema_id, "charge-package", 1);
        if !is_package && !is_version_of(&doc.schema_id, "invoice", 1) {
            return Err(PluginError::unsupported(format!(
                "charge-tolerance validates charge-package@1 and invoice@1 documents, not {:?}",
                doc.schema_id
            )));
        }
        let tolerance = tolerance::Tolerance::from_config()?;
        if is_package {
            let package: ChargePackage = doc.json()?;
            Ok(check::check(&Subject::package(&package), &tolerance))
        } else {
            let invoice: Invoice = doc.json()?;
            Ok(check::check(&Subject::invoice(&invoice), &tolerance))
        }
    }
}

waybill_sdk::export!(ChargeTolerance);
