//! The configured tolerance and the allowed difference it gives.

use std::fmt;
use std::str::FromStr;
use waybill_sdk::PluginError;
use waybill_sdk::canonical::decimal_to_minor;
use waybill_sdk::config;

/// Config key of the relative tolerance, in percent of the quoted amount.
pub const PERCENT_KEY: &str = "tolerance_percent";
/// Config key of the absolute tolerance, in minor units.
pub const MINOR_KEY: &str = "tolerance_minor";

/// A percentage with up to two decimals, held in basis points (1% = 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percent(pub i128);

impl FromStr for Percent {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bp = decimal_to_minor(s.trim_end_matches('%'), 2)?;
        if !(0..=10_000).contains(&bp) {
            return Err(format!("{s:?} is not between 0 and 100 percent"));
        }
        Ok(Percent(i128::from(bp)))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, hundredths) = (self.0 / 100, self.0 % 100);
        match hundredths {
            0 => write!(f, "{whole}%"),
            h if h % 10 == 0 => write!(f, "{whole}.{}%", h / 10),
            h => write!(f, "{whole}.{h:02}%"),
        }
    }
}

/// A non-negative whole number of minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinorUnits(pub i128);

impl FromStr for MinorUnits {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.parse::<u64>() {
            Ok(v) => Ok(MinorUnits(i128::from(v))),
            Err(_) => Err(format!(
                "{s:?} is not a non-negative whole number of minor units"
            )),
        }
    }
}

/// How far a final figure may be from the quoted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    /// Relative part, of the quoted amount.
    pub percent: Percent,
    /// Absolute part, in minor units of the package currency.
    pub minor: MinorUnits,
}

impl Tolerance {
    /// Reads both keys, with defaults 5% and 2500 minor units.
    pub fn from_config() -> Result<Self, PluginError> {
        Ok(Tolerance {
            percent: config::parse_or(PERCENT_KEY, Percent(500))?,
            minor: config::parse_or(MINOR_KEY, MinorUnits(2500))?,
        })
    }

    /// The percent part for a quoted amount, rounded down.
    pub fn relative(&self, quoted: i128) -> i128 {
        quoted.abs() * self.percent.0 / 10_000
    }

    /// The allowed difference from a quoted amount: the larger of the two.
    pub fn allowed(&self, quoted: i128) -> i128 {
        self.relative(quoted).max(self.minor.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_parses_to_basis_points() {
        assert_eq!("5".parse(), Ok(Percent(500)));
        assert_eq!("2.5".parse(), Ok(Percent(250)));
        assert_eq!("0.25%".parse(), Ok(Percent(25)));
        assert_eq!("100".parse(), Ok(Percent(10_000)));
        assert!("100.01".parse::<Percent>().is_err());
        assert!("-1".parse::<Percent>().is_err());
        assert!("1.005".parse::<Percent>().is_err());
        assert!("five".parse::<Percent>().is_err());
        assert_eq!(Percent(500).to_string(), "5%");
        assert_eq!(Percent(250).to_string(), "2.5%");
        assert_eq!(Percent(25).to_string(), "0.25%");
    }

    #[test]
    fn minor_units_are_whole_and_non_negative() {
        assert_eq!("2500".parse(), Ok(MinorUnits(2500)));
        assert_eq!("0".parse(), Ok(MinorUnits(0)));
        assert!("-5".parse::<MinorUnits>().is_err());
        assert!("25.00".parse::<MinorUnits>().is_err());
    }

    #[test]
    fn allowed_is_the_larger_part() {
        let t = Tolerance {
            percent: Percent(500),
            minor: MinorUnits(2500),
        };
        // FUEL of the Acme sample: 5% of 44.09 is 2.20 (2.2045 rounded down).
        assert_eq!(t.relative(4409), 220);
        assert_eq!(t.allowed(4409), 2500);
        assert_eq!(t.allowed(73_149), 3657);
        assert_eq!(t.allowed(-12_000), 2500);
        let tight = Tolerance {
            percent: Percent(500),
            minor: MinorUnits(100),
        };
        assert_eq!(tight.allowed(4409), 220);
    }
}
