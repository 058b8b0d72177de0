//! Acme TMS charge codes and the canonical codes they mean.

use waybill_sdk::canonical::ChargeCode;

/// Every Acme charge code (for error messages).
pub const CODES: [&str; 8] = [
    "LINEHAUL",
    "FUEL",
    "LIFTGATE",
    "EXPEDITE",
    "DETENTION",
    "RESIDENTIAL",
    "INSIDE_DELIVERY",
    "DISCOUNT",
];

/// The canonical code of an Acme charge code; `None` for codes Acme does not
/// define. Matched exactly: Acme sends them upper case.
pub fn to_charge_code(code: &str) -> Option<ChargeCode> {
    Some(match code {
        "LINEHAUL" => ChargeCode::Linehaul,
        "FUEL" => ChargeCode::Fuel,
        "LIFTGATE" => ChargeCode::Liftgate,
        "EXPEDITE" => ChargeCode::Expedite,
        "DETENTION" => ChargeCode::Detention,
        "RESIDENTIAL" => ChargeCode::Residential,
        "INSIDE_DELIVERY" => ChargeCode::InsideDelivery,
        "DISCOUNT" => ChargeCode::Discount,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_maps_and_nothing_else_does() {
        for code in CODES {
            assert!(to_charge_code(code).is_some(), "{code}");
        }
        assert_eq!(to_charge_code("fuel"), None);
        assert_eq!(to_charge_code("TAX"), None);
        assert_eq!(to_charge_code("OTHER"), None);
    }
}
