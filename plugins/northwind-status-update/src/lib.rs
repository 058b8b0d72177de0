//! Outbound mapper: canonical `shipment-event@1.0` -> Northwind ERP order
//! status update (`vendor:northwind-erp.order-status-update@1`).
//!
//! Northwind ERP is the source of truth for orders; sales and customer service
//! look there for where an order is. This plugin is the only place that knows
//! how the ERP wants a logistics status: it attaches the update to the sales
//! order (`sales_order`), so an event without an `order_id` is refused — the
//! ERP has nothing to attach it to.
//!
//! Field rules:
//! - `sales_order` = `order_id` (required, `/order_id`);
//! - `logistics_status` = the canonical milestone code (`IN_TRANSIT`, ...);
//! - `status_time` = `event_time`; `eta` = `eta`;
//! - `carrier_scac`, `tracking_no` (= `pro_number`) and `eta` are always
//!   present, `null` when the event does not know them;
//! - `remarks` = `"<MILESTONE>: <reason explained>"` when the event carries a
//!   reason code (X12 AT7 codes are spelled out, other vendor codes are kept
//!   verbatim), `""` otherwise, as the sample shows;
//! - `source_event_id` = the source system's own event id (`source.id`).
//!
//! The business key is the shipment id (bill of lading), so updates about one
//! shipment reach the ERP in order.

use serde::Serialize;
use waybill_sdk::canonical::{self, Milestone, ShipmentEvent};
use waybill_sdk::{Message, Output, Plugin, PluginError, PluginInfo};

/// Schema id of the ERP's order status update.
pub const ORDER_STATUS_UPDATE: &str = "vendor:northwind-erp.order-status-update@1";

/// The plugin.
pub struct NorthwindStatusUpdate;

/// The body the ERP accepts (field names fixed by the ERP).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderStatusUpdate {
    /// ERP sales order number.
    pub sales_order: String,
    /// Canonical milestone code.
    pub logistics_status: &'static str,
    /// When the status was reached (RFC 3339).
    pub status_time: String,
    /// Carrier SCAC, when known.
    pub carrier_scac: Option<String>,
    /// Carrier PRO number, when known.
    pub tracking_no: Option<String>,
    /// Estimated delivery, when known.
    pub eta: Option<String>,
    /// Reason explained, or empty.
    pub remarks: String,
    /// The source system's event id.
    pub source_event_id: String,
}

impl Plugin for NorthwindStatusUpdate {
    fn describe() -> PluginInfo {
        PluginInfo::mapper(
            "northwind-status-update",
            env!("CARGO_PKG_VERSION"),
            &[canonical::SHIPMENT_EVENT],
            &[ORDER_STATUS_UPDATE],
        )
    }

    fn map(input: &Message) -> Result<Vec<Output>, PluginError> {
        let event: ShipmentEvent =
            input.canonical("northwind-status-update", canonical::SHIPMENT_EVENT)?;
        let update = to_update(&event)?;
        Ok(vec![Output::json(
            ORDER_STATUS_UPDATE,
            &event.shipment_id,
            &update,
        )?])
    }
}

waybill_sdk::export!(NorthwindStatusUpdate);

/// Maps one canonical event to the ERP's update.
pub fn to_update(event: &ShipmentEvent) -> Result<OrderStatusUpdate, PluginError> {
    let sales_order = match non_blank(&event.order_id) {
        Some(id) => id,
        None => {
            return Err(PluginError::invalid(
                "/order_id",
                "required",
                "the ERP attaches status updates to a sales order; this event has no order_id",
            ));
        }
    };
    let status = milestone_code(event.milestone);
    let remarks = match non_blank(&event.reason_code) {
        Some(code) => format!("{status}: {}", explain_reason(&code)),
        None => String::new(),
    };
    Ok(OrderStatusUpdate {
        sales_order,
        logistics_status: status,
        status_time: event.event_time.clone(),
        carrier_scac: non_blank(&event.carrier_scac),
        tracking_no: non_blank(&event.pro_number),
        eta: non_blank(&event.eta),
        remarks,
        source_event_id: event.source.id.clone(),
    })
}

/// The trimmed value, `None` when absent or blank.
fn non_blank(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The canonical milestone code, as the ERP's `logistics_status`.
pub fn milestone_code(m: Milestone) -> &'static str {
    match m {
        Milestone::Booked => "BOOKED",
        Milestone::Dispatched => "DISPATCHED",
        Milestone::ArrivedPickup => "ARRIVED_PICKUP",
        Milestone::DepartedPickup => "DEPARTED_PICKUP",
        Milestone::InTransit => "IN_TRANSIT",
        Milestone::Delayed => "DELAYED",
        Milestone::ArrivedDelivery => "ARRIVED_DELIVERY",
        Milestone::Delivered => "DELIVERED",
        Milestone::PodAvailable => "POD_AVAILABLE",
        Milestone::Exception => "EXCEPTION",
        Milestone::Cancelled => "CANCELLED",
    }
}

/// A reason code spelled out: X12 AT7-02 status reason codes known here become
/// `"<text> (<code>)"`; anything else (e.g. an Acme TMS reason code) is kept
/// verbatim, since guessing its meaning would mislead the ERP user.
pub fn explain_reason(code: &str) -> String {
    let text = match code {
        "NS" => "Normal status",
        "A1" => "Missed delivery",
        "A2" => "Incorrect address",
        "A3" => "Indirect delivery",
        "A5" => "Unable to locate",
        "AF" => "Accident",
        "AG" => "Consignee related",
        "AH" => "Driver related",
        "AI" => "Mechanical breakdown",
        "AJ" => "Other carrier related",
        "AM" => "Shipper related",
        "AN" => "Holiday, closed",
        "AO" => "Weather or natural disaster related",
        "B1" => "Consignee closed",
        "BG" => "Other",
        "P1" => "Processing delay",
        _ => return code.to_string(),
    };
    format!("{text} ({code})")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reasons_are_explained_or_kept() {
        assert_eq!(
            explain_reason("AO"),
            "Weather or natural disaster related (AO)"
        );
        assert_eq!(explain_reason("WEATHER"), "WEATHER");
    }

    #[test]
    fn milestone_codes_match_serde() {
        let all = [
            Milestone::Booked,
            Milestone::Dispatched,
            Milestone::ArrivedPickup,
            Milestone::DepartedPickup,
            Milestone::InTransit,
            Milestone::Delayed,
            Milestone::ArrivedDelivery,
            Milestone::Delivered,
            Milestone::PodAvailable,
            Milestone::Exception,
            Milestone::Cancelled,
        ];
        for m in all {
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::json!(milestone_code(m))
            );
        }
    }
}
