//! X12 shipment status codes (element 1650, AT7-01) and what they mean in
//! canonical milestones.
//!
//! Only codes whose meaning is unambiguous are listed; anything else is a
//! typed `unknown-status-code` error rather than a guess, so a partner's new
//! code shows up in the dead-letter queue instead of as a wrong milestone.

use waybill_sdk::canonical::Milestone;

/// What one AT7-01 code says about the shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMeaning {
    /// A milestone was reached at the AT7 date and time.
    Milestone(Milestone),
    /// Only an estimate: the AT7 date and time is a predicted arrival, not
    /// something that happened (AG, X2, B6, C1).
    Estimate,
}

/// The meaning of AT7-01 `code`, `None` when the code is not known.
pub fn meaning(code: &str) -> Option<StatusMeaning> {
    use Milestone::*;
    use StatusMeaning::{Estimate, Milestone as M};
    let m = match code {
        // Booking and pickup.
        "XB" => M(Booked),         // Shipment Acknowledged
        "X3" => M(ArrivedPickup),  // Arrived at Pick-up Location
        "X8" => M(ArrivedPickup),  // Arrived at Pick-up Location Loading Dock
        "L1" => M(ArrivedPickup),  // Loading
        "CP" => M(ArrivedPickup),  // Completed Loading at Pick-up Location
        "AF" => M(DepartedPickup), // Carrier Departed Pick-up Location with Shipment
        // Between pickup and delivery.
        "X6" => M(InTransit), // En Route to Delivery Location
        "X4" => M(InTransit), // Arrived at Terminal Location
        "P1" => M(InTransit), // Departed Terminal Location
        "AM" => M(InTransit), // Loaded on Truck
        "AN" => M(InTransit), // Diverted to Air Carrier
        "AR" => M(InTransit), // Rail Arrival at Destination Intermodal Ramp
        "RL" => M(InTransit), // Rail Departure from Origin Intermodal Ramp
        "AJ" => M(InTransit), // Tendered for Delivery
        "AV" => M(InTransit), // Available for Delivery
        "AI" => M(InTransit), // Shipment has been Reconsigned
        "BA" => M(InTransit), // Connecting Line or Cartage Pick-up
        "BC" => M(InTransit), // Storage in Transit
        "CL" => M(InTransit), // Trailer Closed Out
        "I1" => M(InTransit), // In-Gate
        "OA" => M(InTransit), // Out-Gate
        "J1" => M(InTransit), // Delivered to Connecting Line
        "R1" => M(InTransit), // Received from Prior Carrier
        "K1" => M(InTransit), // Arrived at Customs
        "SD" => M(Delayed),   // Shipment Delayed
        // Delivery.
        "X1" => M(ArrivedDelivery), // Arrived at Delivery Location
        "X5" => M(ArrivedDelivery), // Arrived at Delivery Location Loading Dock
        "S1" => M(ArrivedDelivery), // Trailer Spotted at Consignee's Location
        "D1" => M(Delivered),       // Completed Unloading at Delivery Location
        "CD" => M(Delivered),       // Carrier Departed Delivery Location
        "CB" => M(Delivered),       // Completed Shipment (last part of a partial)
        // Things going wrong.
        "A3" => M(Exception), // Shipment Returned to Shipper
        "A7" => M(Exception), // Refused by Consignee
        "A9" => M(Exception), // Shipment Damaged
        "AH" => M(Exception), // Attempted Delivery
        "AP" => M(Exception), // Delivery Not Completed
        "PA" => M(Exception), // Partial Shipment
        "OO" => M(Exception), // Paperwork Received - Did not Receive Shipment
        "PR" => M(Exception), // U.S. Customs Hold at In-Bond Location
        "CA" => M(Cancelled), // Shipment Cancelled
        // Estimates only.
        "AG" | "X2" | "B6" | "C1" => Estimate,
        _ => return None,
    };
    Some(m)
}

/// Reason codes (AT7-02) that carry no information: `NS` "Normal Status".
pub fn is_informative_reason(reason: &str) -> bool {
    reason != "NS"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_codes_map_to_milestones() {
        assert_eq!(
            meaning("X3"),
            Some(StatusMeaning::Milestone(Milestone::ArrivedPickup))
        );
        assert_eq!(
            meaning("AF"),
            Some(StatusMeaning::Milestone(Milestone::DepartedPickup))
        );
        assert_eq!(
            meaning("X6"),
            Some(StatusMeaning::Milestone(Milestone::InTransit))
        );
        assert_eq!(
            meaning("SD"),
            Some(StatusMeaning::Milestone(Milestone::Delayed))
        );
        assert_eq!(
            meaning("X1"),
            Some(StatusMeaning::Milestone(Milestone::ArrivedDelivery))
        );
        assert_eq!(
            meaning("D1"),
            Some(StatusMeaning::Milestone(Milestone::Delivered))
        );
        assert_eq!(
            meaning("CD"),
            Some(StatusMeaning::Milestone(Milestone::Delivered))
        );
        assert_eq!(
            meaning("CA"),
            Some(StatusMeaning::Milestone(Milestone::Cancelled))
        );
        assert_eq!(
            meaning("A9"),
            Some(StatusMeaning::Milestone(Milestone::Exception))
        );
        assert_eq!(meaning("AG"), Some(StatusMeaning::Estimate));
        assert_eq!(meaning("ZZ"), None);
        assert_eq!(meaning("d1"), None);
        assert!(!is_informative_reason("NS"));
        assert!(is_informative_reason("AO"));
    }
}
