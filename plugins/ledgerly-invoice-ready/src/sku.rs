//! Ledgerly freight SKUs and the canonical charge codes they mean.

use waybill_sdk::canonical::ChargeCode;

/// The canonical code of a Ledgerly SKU (compared case-insensitively);
/// SKUs Ledgerly defines without a canonical counterpart (`FRT-OTHER`) and
/// unknown ones are `OTHER`, the SKU staying in the line's `item_code`.
pub fn to_charge_code(sku: &str) -> ChargeCode {
    match sku.trim().to_ascii_uppercase().as_str() {
        "FRT-LINEHAUL" => ChargeCode::Linehaul,
        "FRT-FUEL" => ChargeCode::Fuel,
        "FRT-LIFTGATE" => ChargeCode::Liftgate,
        "FRT-EXPEDITE" => ChargeCode::Expedite,
        "FRT-DETENTION" => ChargeCode::Detention,
        "FRT-RESIDENTIAL" => ChargeCode::Residential,
        "FRT-INSIDE" => ChargeCode::InsideDelivery,
        "FRT-DISCOUNT" => ChargeCode::Discount,
        _ => ChargeCode::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_map_to_canonical_codes() {
        assert_eq!(to_charge_code("FRT-LINEHAUL"), ChargeCode::Linehaul);
        assert_eq!(to_charge_code("frt-fuel"), ChargeCode::Fuel);
        assert_eq!(to_charge_code("FRT-INSIDE"), ChargeCode::InsideDelivery);
        assert_eq!(to_charge_code("FRT-DISCOUNT"), ChargeCode::Discount);
        assert_eq!(to_charge_code("FRT-OTHER"), ChargeCode::Other);
        assert_eq!(to_charge_code("FRT-HAZMAT"), ChargeCode::Other);
        assert_eq!(to_charge_code("FRT-TAX"), ChargeCode::Other);
    }
}
