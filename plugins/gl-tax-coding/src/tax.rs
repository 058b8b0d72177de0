//! The tax configuration (`tax_rate_bps`, `tax_account`) and the tax
//! computed on an untaxed invoice.

/// Config key of the rate used when the invoice has no taxes.
pub const TAX_RATE_KEY: &str = "tax_rate_bps";
/// Config key of the GL account every tax posts to.
pub const TAX_ACCOUNT_KEY: &str = "tax_account";

/// Highest accepted rate: 100%.
const MAX_BPS: u32 = 10_000;

/// Parses a rate in basis points: a whole number from 0 to 10000.
pub fn parse_rate(raw: &str) -> Result<u32, String> {
    match raw.trim().parse::<u32>() {
        Ok(bps) if bps <= MAX_BPS => Ok(bps),
        _ => Err(format!(
            "{raw:?} is not a whole number of basis points from 0 to {MAX_BPS}"
        )),
    }
}

/// `rate_bps` of `subtotal`, rounded half-up (halves away from zero, so a
/// credit is taxed like the invoice it mirrors); `None` on overflow.
pub fn tax_on(subtotal: i64, rate_bps: u32) -> Option<i64> {
    let product = i128::from(subtotal) * i128::from(rate_bps);
    let magnitude = (product.abs() + 5_000) / 10_000;
    i64::try_from(if product < 0 { -magnitude } else { magnitude }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up() {
        // The Ledgerly sample: 5% of 731.49 = 36.5745 -> 36.57.
        assert_eq!(tax_on(73_149, 500), Some(3657));
        assert_eq!(tax_on(10, 500), Some(1)); // 0.5 -> 1
        assert_eq!(tax_on(9, 500), Some(0)); // 0.45 -> 0
        assert_eq!(tax_on(-10, 500), Some(-1));
        assert_eq!(tax_on(0, 500), Some(0));
        assert_eq!(tax_on(1_000, 0), Some(0));
        assert_eq!(tax_on(i64::MAX, 10_000), Some(i64::MAX));
    }

    #[test]
    fn rates_are_whole_basis_points() {
        assert_eq!(parse_rate("500"), Ok(500));
        assert_eq!(parse_rate(" 0 "), Ok(0));
        assert_eq!(parse_rate("10000"), Ok(10_000));
        assert!(parse_rate("10001").is_err());
        assert!(parse_rate("5%").is_err());
        assert!(parse_rate("5.5").is_err());
        assert!(parse_rate("-1").is_err());
    }
}
