//! X12 money: `N2` amounts (implied two decimals, `363604` is 3636.04) and
//! the currency from C3, converted to canonical integer minor units without
//! ever going through floating point.

use waybill_sdk::canonical::{currency_exponent, decimal_to_minor};
use waybill_x12::{Segment, X12Error};

/// Element `n` of `seg` as an `N2` amount in hundredths. A decimal point,
/// which some senders put in anyway, is honoured (`3636.04` = `363604`).
pub fn n2_amount(seg: &Segment, n: usize) -> Result<i64, X12Error> {
    let raw = seg.required(n)?;
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let parsed = if raw.contains('.') {
        decimal_to_minor(raw, 2).ok()
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<i64>().ok()
    } else {
        None
    };
    parsed.ok_or_else(|| {
        seg.error(
            Some(n),
            "invalid-amount",
            format!(
                "{}-{n:02} {raw:?} is not an amount with two implied decimals",
                seg.tag()
            ),
        )
    })
}

/// Converts hundredths into minor units of `currency` (e.g. JPY has none,
/// so 1500 hundredths are 15 yen); `None` when that would lose a fraction
/// or overflow.
pub fn hundredths_to_minor(hundredths: i64, currency: &str) -> Option<i64> {
    match currency_exponent(currency) {
        2 => Some(hundredths),
        e if e < 2 => {
            let scale = 10i64.pow(2 - e);
            (hundredths % scale == 0).then_some(hundredths / scale)
        }
        e => hundredths.checked_mul(10i64.pow(e - 2)),
    }
}

/// Hundredths as a decimal string, `65940` -> `659.40`, for messages.
pub fn show(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let abs = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The currency in C3-01, upper case, when it is an ISO 4217 code.
pub fn currency_of(c3: &Segment) -> Result<Option<String>, X12Error> {
    let Some(raw) = c3.value(1) else {
        return Ok(None);
    };
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Ok(Some(raw.to_ascii_uppercase()));
    }
    Err(c3.error(
        Some(1),
        "invalid-currency",
        format!("C3-01 {raw:?} is not an ISO 4217 currency code"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_x12::Interchange;

    fn l1(elements: &str) -> Segment {
        let text = format!(
            "ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*0528*U*00401*000001838*0*T*:~L1*{elements}~IEA*1*000001838~"
        );
        let ix = Interchange::parse(&text).expect("tokenizes");
        ix.segments()[1].clone()
    }

    #[test]
    fn reads_implied_decimals() {
        assert_eq!(n2_amount(&l1("1*46.09*PH*363604"), 4), Ok(363_604));
        assert_eq!(n2_amount(&l1("4***-301791****DSC"), 4), Ok(-301_791));
        assert_eq!(n2_amount(&l1("1***3636.04"), 4), Ok(363_604));
        assert_eq!(n2_amount(&l1("1***0"), 4), Ok(0));
        for bad in [
            "1***36A4",
            "1***-",
            "1***+5",
            "1***1.005",
            "1***99999999999999999999",
        ] {
            let err = n2_amount(&l1(bad), 4).expect_err(bad);
            assert_eq!(
                (err.path.as_str(), err.code.as_str()),
                ("/L1/04", "invalid-amount"),
                "{bad}"
            );
        }
        assert_eq!(n2_amount(&l1("1"), 4).expect_err("absent").code, "required");
    }

    #[test]
    fn rescales_to_the_currency() {
        assert_eq!(hundredths_to_minor(363_604, "USD"), Some(363_604));
        assert_eq!(hundredths_to_minor(1500, "JPY"), Some(15));
        assert_eq!(hundredths_to_minor(1550, "JPY"), None);
        assert_eq!(hundredths_to_minor(1550, "KWD"), Some(15_500));
        assert_eq!(show(65_940), "659.40");
        assert_eq!(show(-5), "-0.05");
    }
}
