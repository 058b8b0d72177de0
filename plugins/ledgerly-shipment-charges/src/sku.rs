//! Canonical charge codes as Ledgerly freight SKUs, with the description
//! Ledgerly prints for each.

use waybill_sdk::canonical::ChargeCode;

/// Ledgerly's catch-all SKU.
pub const OTHER_SKU: &str = "FRT-OTHER";

/// The SKU and printed description of `code`; `None` for `TAX`, which
/// Ledgerly computes itself and has no SKU for.
pub fn to_sku(code: ChargeCode) -> Option<(&'static str, &'static str)> {
    Some(match code {
        ChargeCode::Linehaul => ("FRT-LINEHAUL", "Linehaul"),
        ChargeCode::Fuel => ("FRT-FUEL", "Fuel surcharge"),
        ChargeCode::Liftgate => ("FRT-LIFTGATE", "Liftgate delivery"),
        ChargeCode::Expedite => ("FRT-EXPEDITE", "Expedited service"),
        ChargeCode::Detention => ("FRT-DETENTION", "Detention"),
        ChargeCode::Residential => ("FRT-RESIDENTIAL", "Residential delivery"),
        ChargeCode::InsideDelivery => ("FRT-INSIDE", "Inside delivery"),
        ChargeCode::Discount => ("FRT-DISCOUNT", "Discount"),
        ChargeCode::Other => (OTHER_SKU, "Other charge"),
        ChargeCode::Tax => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_but_tax_has_a_sku() {
        assert_eq!(
            to_sku(ChargeCode::Linehaul).map(|s| s.0),
            Some("FRT-LINEHAUL")
        );
        assert_eq!(
            to_sku(ChargeCode::InsideDelivery).map(|s| s.0),
            Some("FRT-INSIDE")
        );
        assert_eq!(to_sku(ChargeCode::Other).map(|s| s.0), Some("FRT-OTHER"));
        assert_eq!(to_sku(ChargeCode::Tax), None);
    }
}
