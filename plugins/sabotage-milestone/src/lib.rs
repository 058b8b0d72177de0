//! Test-only: the sabotaged builds of `acme-tms-milestone` that the demo
//! drops into a watched plugins directory to show a hot swap, dead letters
//! and their replay through the fix. They live here, not in the vendor
//! plugin, so that the plugin partners copy as a template carries no
//! sabotage switch.
//!
//! The mapping is the vendor plugin's own source (its modules are compiled
//! in by path, not linked, so its component exports stay out of this one).
//! Three builds of this crate:
//! - default: `sabotage-milestone` 1.0.0, the vendor mapping under this
//!   crate's name (what the golden fixtures run);
//! - `broken`: `acme-tms-milestone` 1.1.0, which reads the bill of lading
//!   from `shipment.billOfLading`, a field Acme never sends, so every
//!   milestone fails to map;
//! - `fixed`: `acme-tms-milestone` 1.1.1, the vendor mapping again.

#[path = "../../acme-tms-milestone/src/mapping.rs"]
mod mapping;
#[path = "../../acme-tms-milestone/src/milestone_code.rs"]
mod milestone_code;
#[path = "../../acme-tms-milestone/src/webhook.rs"]
mod webhook;
pub(crate) use waybill_sdk::problems;
pub(crate) use waybill_sdk::time as timestamp;

use waybill_sdk::canonical::SHIPMENT_EVENT;
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// The message kind the vendor plugin consumes.
pub const KIND: &str = "acme-tms.milestone";

/// The build misreads the bill of lading.
const BROKEN: bool = cfg!(feature = "broken");

/// The name and version `describe()` reports.
const NAME: &str = if BROKEN || cfg!(feature = "fixed") {
    "acme-tms-milestone"
} else {
    "sabotage-milestone"
};
const VERSION: &str = if BROKEN {
    "1.1.0"
} else if cfg!(feature = "fixed") {
    "1.1.1"
} else {
    env!("CARGO_PKG_VERSION")
};

/// The vendor mapping, sabotaged in the `broken` build.
pub struct SabotageMilestone;

impl Plugin for SabotageMilestone {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(NAME, VERSION, &[KIND], &[SHIPMENT_EVENT])
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        input.expect_kind(NAME, KIND)?;
        let envelope: webhook::Envelope = input.json()?;
        match envelope.event_type.as_deref() {
            None | Some("") => return Err(PluginError::missing("/eventType")),
            Some(webhook::EVENT_TYPE) => {}
            Some(other) => {
                return Err(PluginError::unsupported(format!(
                    "Acme eventType {other:?} is not a milestone ({:?})",
                    webhook::EVENT_TYPE
                )));
            }
        }
        let mut hook: webhook::Webhook = input.json()?;
        if BROKEN {
            misread_bill_of_lading(input, &mut hook)?;
        }
        let event = mapping::to_shipment_event(&hook)?;
        Ok(vec![Output::json(
            SHIPMENT_EVENT,
            &event.shipment_id,
            &event,
        )?])
    }
}

/// The sabotage: the bill of lading is read from `shipment.billOfLading`.
fn misread_bill_of_lading(input: &Message, hook: &mut webhook::Webhook) -> Result<(), PluginError> {
    let raw: serde_json::Value = input.json()?;
    if let Some(shipment) = hook.shipment.as_mut() {
        shipment.bol = raw
            .pointer("/shipment/billOfLading")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
    }
    Ok(())
}

waybill_sdk::export!(SabotageMilestone);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn bol_after_misreading(body: &str) -> Option<String> {
        let input = Message::new(KIND, "application/json", body);
        let mut hook: webhook::Webhook = input.json().unwrap();
        misread_bill_of_lading(&input, &mut hook).unwrap();
        hook.shipment.unwrap().bol
    }

    #[test]
    fn the_broken_build_loses_the_bill_of_lading_acme_sends() {
        // What Acme sends: `shipment.bol`; the broken build finds nothing.
        assert_eq!(
            bol_after_misreading(r#"{"shipment": {"bol": "75027674"}}"#),
            None
        );
        // Only the name Acme never sends would be read.
        assert_eq!(
            bol_after_misreading(r#"{"shipment": {"bol": "1", "billOfLading": "2"}}"#).as_deref(),
            Some("2")
        );
    }
}
