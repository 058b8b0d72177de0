//! Money as the partner systems spell it: decimal strings such as `"612.40"`
//! (Northwind, Acme) against integer minor units (Ledgerly, the sims' own
//! books). Conversions are exact integer arithmetic; a float never touches an
//! amount, so a simulator can insist that totals add up to the cent.

/// Decimals of every currency the demo trades in (USD).
pub const DECIMALS: u32 = 2;

/// `"612.40"` -> `61240`. Accepts an optional `-`, digits, and at most
/// [`DECIMALS`] fraction digits (`"75"`, `"75.5"`, `"75.50"`); anything else
/// (signs other than `-`, exponents, spaces, extra precision) is an error.
pub fn to_minor(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a decimal amount with at most {DECIMALS} decimals");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !all_digits(whole)
        || !all_digits(fraction)
        || fraction.len() > DECIMALS as usize
        || (digits.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let scale = 10i64.pow(DECIMALS);
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let padded = format!("{fraction:0<width$}", width = DECIMALS as usize);
    let fraction: i64 = padded.parse().map_err(|_| bad())?;
    let minor = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)?;
    Ok(if negative { -minor } else { minor })
}

/// `61240` -> `"612.40"`, `-500` -> `"-5.00"`.
pub fn to_decimal(minor: i64) -> String {
    let scale = 10u64.pow(DECIMALS);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale,
        abs % scale,
        width = DECIMALS as usize
    )
}

/// `amount * numerator / denominator`, rounded half away from zero (the
/// "half-up" of invoices and tax tables).
pub fn scale_half_up(amount: i64, numerator: i64, denominator: i64) -> i64 {
    let (n, d) = (
        i128::from(amount) * i128::from(numerator),
        i128::from(denominator),
    );
    let q = (n.abs() * 2 + d.abs()) / (d.abs() * 2);
    let q = if (n < 0) != (d < 0) { -q } else { q };
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

/// A JSON number with the amount's exact decimal spelling (`18250` ->
/// `182.5`), for formats that carry money as numbers (the ERP's release).
pub fn to_json_number(minor: i64) -> serde_json::Value {
    serde_json::from_str(&to_decimal(minor)).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_round_trip_exactly() {
        assert_eq!(to_minor("612.40"), Ok(61240));
        assert_eq!(to_minor("75"), Ok(7500));
        assert_eq!(to_minor("0.5"), Ok(50));
        assert_eq!(to_minor("-5.01"), Ok(-501));
        assert_eq!(to_decimal(61240), "612.40");
        assert_eq!(to_decimal(-501), "-5.01");
        assert_eq!(to_decimal(7), "0.07");
        for bad in ["", "1.234", "1e3", "+1", " 1", "1.", ".5", "1,00", "--1"] {
            assert!(to_minor(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn half_up_rounds_away_from_zero() {
        assert_eq!(scale_half_up(73149, 500, 10_000), 3657); // 3657.45
        assert_eq!(scale_half_up(10, 5, 100), 1); // 0.5
        assert_eq!(scale_half_up(-10, 5, 100), -1);
        assert_eq!(scale_half_up(61240, 72_000, 1_000_000), 4409); // 4409.28
    }

    #[test]
    fn json_numbers_keep_the_decimal_spelling() {
        assert_eq!(to_json_number(18250).to_string(), "182.5");
        assert_eq!(to_json_number(219000).to_string(), "2190.0");
    }
}
