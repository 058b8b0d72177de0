//! Builds the canonical charge package from a parsed Acme event.

use crate::event::ChargesFinal;
use crate::problems::{Problems, present};
use waybill_acme_tms::{ChargeList, to_charges};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{ChargePackage, SourceRef};

/// The canonical name of the source system.
const SYSTEM: &str = "acme-tms";

/// Maps the event, or lists every problem found in it.
pub fn to_charge_package(event: &ChargesFinal) -> Result<ChargePackage, PluginError> {
    let mut p = Problems::default();
    let event_id = p.required(event.event_id.as_deref(), "/eventId");
    let shipment = event.shipment.as_ref();
    if shipment.is_none() {
        p.push("/shipment", "required", "/shipment is required");
    }
    let bol = match shipment {
        Some(s) => p.required(s.bol.as_deref(), "/shipment/bol"),
        None => "",
    };
    let charges = to_charges(
        &mut p,
        ChargeList::CarrierFinal,
        event.charges.as_deref(),
        bol,
    );

    let text = |v: Option<&String>| present(v.map(String::as_str)).map(str::to_string);
    let package = ChargePackage {
        package_id: format!("{bol}:{}:{event_id}", ChargeList::CarrierFinal.id_part()),
        source: SourceRef {
            system: SYSTEM.into(),
            id: event_id.into(),
        },
        shipment_id: bol.into(),
        order_id: text(shipment.and_then(|s| s.external_ref.as_ref())),
        carrier_scac: text(shipment.and_then(|s| s.scac.as_ref())),
        invoice_number: None,
        currency: charges.currency.unwrap_or_default(),
        charges: charges.lines,
        total_minor: charges.total_minor,
        reference_charges: Vec::new(),
    };
    p.finish(package)
}
