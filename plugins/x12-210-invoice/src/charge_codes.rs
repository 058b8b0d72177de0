//! X12 special charge codes (L1-08, elements 150/1602) -> canonical charge
//! codes. A line without a special charge code is the base freight
//! (linehaul); a code not listed here is `OTHER` with the vendor's code kept
//! in `source_code`, so no charge is ever dropped or guessed.

use waybill_sdk::canonical::ChargeCode;

/// The canonical code for an L1 line with special charge code `code`.
pub fn charge_code(code: Option<&str>) -> ChargeCode {
    let Some(code) = code else {
        return ChargeCode::Linehaul;
    };
    match code.to_ascii_uppercase().as_str() {
        "FUE" | "FSC" => ChargeCode::Fuel,
        "DSC" | "270" | "275" | "280" | "285" | "290" | "295" => ChargeCode::Discount,
        "DET" | "DEP" => ChargeCode::Detention,
        "LFT" | "LTG" => ChargeCode::Liftgate,
        "RES" => ChargeCode::Residential,
        "IDL" => ChargeCode::InsideDelivery,
        "350" => ChargeCode::Expedite,
        "TAX" | "GST" | "HST" => ChargeCode::Tax,
        _ => ChargeCode::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_known_codes_and_keeps_the_rest_as_other() {
        assert_eq!(charge_code(None), ChargeCode::Linehaul);
        assert_eq!(charge_code(Some("FUE")), ChargeCode::Fuel);
        assert_eq!(charge_code(Some("DSC")), ChargeCode::Discount);
        assert_eq!(charge_code(Some("DET")), ChargeCode::Detention);
        assert_eq!(charge_code(Some("LFT")), ChargeCode::Liftgate);
        assert_eq!(charge_code(Some("LTG")), ChargeCode::Liftgate);
        assert_eq!(charge_code(Some("fue")), ChargeCode::Fuel);
        assert_eq!(charge_code(Some("CUS")), ChargeCode::Other);
        assert_eq!(charge_code(Some("ZZZ")), ChargeCode::Other);
    }
}
