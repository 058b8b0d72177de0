//! Acme TMS milestone codes and the canonical milestones they mean.

use waybill_sdk::canonical::Milestone;

/// Every Acme milestone code, in lifecycle order (for error messages).
pub const CODES: [&str; 11] = [
    "BOOKED",
    "DISPATCHED",
    "ARRIVED_PICKUP",
    "DEPARTED_PICKUP",
    "IN_TRANSIT",
    "DELAYED",
    "ARRIVED_DELIVERY",
    "DELIVERED",
    "POD_AVAILABLE",
    "EXCEPTION",
    "CANCELLED",
];

/// The canonical milestone of an Acme code; `None` for codes Acme does not
/// define. Codes are matched exactly: Acme sends them upper case.
pub fn to_milestone(code: &str) -> Option<Milestone> {
    Some(match code {
        "BOOKED" => Milestone::Booked,
        "DISPATCHED" => Milestone::Dispatched,
        "ARRIVED_PICKUP" => Milestone::ArrivedPickup,
        "DEPARTED_PICKUP" => Milestone::DepartedPickup,
        "IN_TRANSIT" => Milestone::InTransit,
        "DELAYED" => Milestone::Delayed,
        "ARRIVED_DELIVERY" => Milestone::ArrivedDelivery,
        "DELIVERED" => Milestone::Delivered,
        "POD_AVAILABLE" => Milestone::PodAvailable,
        "EXCEPTION" => Milestone::Exception,
        "CANCELLED" => Milestone::Cancelled,
        _ => return None,
    })
}

/// Whether Acme must send a `reasonCode` with this milestone.
pub fn needs_reason(milestone: Milestone) -> bool {
    matches!(milestone, Milestone::Delayed | Milestone::Exception)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_maps_and_nothing_else_does() {
        for code in CODES {
            assert!(to_milestone(code).is_some(), "{code}");
        }
        assert_eq!(to_milestone("in_transit"), None);
        assert_eq!(to_milestone("PICKED_UP"), None);
        assert_eq!(to_milestone(""), None);
    }

    #[test]
    fn only_delays_and_exceptions_need_a_reason() {
        let needing: Vec<_> = CODES
            .iter()
            .filter_map(|c| to_milestone(c))
            .filter(|m| needs_reason(*m))
            .collect();
        assert_eq!(needing, vec![Milestone::Delayed, Milestone::Exception]);
    }
}
