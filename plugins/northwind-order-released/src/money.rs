//! ERP amounts -> integer minor units, exactly or not at all.
//!
//! The ERP sends money as JSON numbers (`182.5`); a decimal string is taken
//! too. A number is converted from its shortest decimal spelling, which is
//! exactly the number the ERP wrote whenever that had at most 15 significant
//! digits (what an IEEE double holds); longer numbers are refused rather than
//! rounded. Digits beyond the currency's exponent are refused too.

use serde::Deserialize;
use serde_json::Number;
use waybill_sdk::canonical::decimal_to_minor;

/// Significant decimal digits an IEEE double always holds exactly.
const EXACT_DIGITS: usize = 15;

/// An amount as the ERP sent it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    /// A JSON number.
    Number(Number),
    /// A decimal string.
    Text(String),
}

impl Amount {
    /// The amount in minor units of a currency with `exponent` decimals.
    pub fn to_minor(&self, exponent: u32) -> Result<i64, String> {
        match self {
            Amount::Text(s) => decimal_to_minor(s, exponent),
            Amount::Number(n) => number_to_minor(n, exponent),
        }
    }
}

fn number_to_minor(n: &Number, exponent: u32) -> Result<i64, String> {
    let text = n.to_string();
    if text.contains(['e', 'E']) {
        return Err(format!("{text} is out of range for an amount"));
    }
    let significant = text
        .trim_start_matches('-')
        .replace('.', "")
        .trim_start_matches('0')
        .trim_end_matches('0')
        .len();
    if n.is_f64() && significant > EXACT_DIGITS {
        return Err(format!(
            "{text} has more significant digits than a JSON number carries exactly; send it as a string"
        ));
    }
    decimal_to_minor(&text, exponent)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn minor(json: &str, exponent: u32) -> Result<i64, String> {
        serde_json::from_str::<Amount>(json)
            .unwrap()
            .to_minor(exponent)
    }

    #[test]
    fn numbers_convert_exactly() {
        assert_eq!(minor("182.5", 2), Ok(18250));
        assert_eq!(minor("2190.0", 2), Ok(219000));
        assert_eq!(minor("0.0", 2), Ok(0));
        assert_eq!(minor("12", 2), Ok(1200));
        assert_eq!(minor("-3.07", 2), Ok(-307));
        assert_eq!(minor("0.1", 2), Ok(10));
        assert_eq!(minor("1234567890123.45", 2), Ok(123456789012345));
        assert_eq!(minor("1500", 0), Ok(1500));
        assert_eq!(minor("\"612.40\"", 2), Ok(61240));
    }

    #[test]
    fn excess_precision_and_range_are_refused() {
        assert!(minor("182.505", 2).is_err());
        assert!(minor("182.5", 0).is_err());
        assert!(minor("12345678901234567.5", 2).is_err());
        assert!(minor("1e30", 2).is_err());
        assert!(minor("0.0000001", 2).is_err());
        assert!(minor("99999999999999999999", 2).is_err());
    }
}
