//! The `gl_accounts` configuration: which GL revenue account each canonical
//! charge code posts to, with `*` as the default.

use std::collections::BTreeMap;
use waybill_sdk::canonical::ChargeCode;

/// Config key of the code -> account table.
pub const GL_ACCOUNTS_KEY: &str = "gl_accounts";

/// The parsed table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlAccounts {
    by_code: BTreeMap<ChargeCode, String>,
    default: Option<String>,
}

impl GlAccounts {
    /// Parses `CODE=ACCOUNT` pairs separated by commas, e.g.
    /// `LINEHAUL=4100-FREIGHT-REV,FUEL=4110-FUEL-REV,*=4190-OTHER-FREIGHT-REV`.
    /// Codes are canonical charge codes (any case) or `*`; each may appear
    /// once; accounts are non-empty.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut table = GlAccounts {
            by_code: BTreeMap::new(),
            default: None,
        };
        for entry in raw.split(',').map(str::trim) {
            if entry.is_empty() {
                return Err(format!("{raw:?} has an empty entry"));
            }
            let Some((code, account)) = entry.split_once('=') else {
                return Err(format!("{entry:?} is not CODE=ACCOUNT"));
            };
            let (code, account) = (code.trim(), account.trim());
            if account.is_empty() {
                return Err(format!("{entry:?} has no account"));
            }
            if code == "*" {
                if table.default.is_some() {
                    return Err("the default (*) is listed twice".into());
                }
                table.default = Some(account.to_string());
            } else if table
                .by_code
                .insert(parse_code(code)?, account.to_string())
                .is_some()
            {
                return Err(format!("{code:?} is listed twice"));
            }
        }
        Ok(table)
    }

    /// The account of `code`: its own, else the default.
    pub fn account(&self, code: ChargeCode) -> Option<&str> {
        self.by_code
            .get(&code)
            .or(self.default.as_ref())
            .map(String::as_str)
    }
}

/// A canonical charge code written as in the schema (`INSIDE_DELIVERY`).
fn parse_code(code: &str) -> Result<ChargeCode, String> {
    serde_json::from_value(serde_json::Value::String(code.to_ascii_uppercase()))
        .map_err(|_| format!("{code:?} is not a canonical charge code"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_then_default() {
        let t = GlAccounts::parse(
            "LINEHAUL=4100-FREIGHT-REV, fuel = 4110-FUEL-REV,inside_delivery=4120,*=4190",
        )
        .unwrap();
        assert_eq!(t.account(ChargeCode::Linehaul), Some("4100-FREIGHT-REV"));
        assert_eq!(t.account(ChargeCode::Fuel), Some("4110-FUEL-REV"));
        assert_eq!(t.account(ChargeCode::InsideDelivery), Some("4120"));
        assert_eq!(t.account(ChargeCode::Other), Some("4190"));
        let no_default = GlAccounts::parse("LINEHAUL=4100").unwrap();
        assert_eq!(no_default.account(ChargeCode::Fuel), None);
    }

    #[test]
    fn bad_tables_are_refused() {
        for bad in [
            "",
            "LINEHAUL",
            "LINEHAUL=",
            "FREIGHT=4100",
            "LINEHAUL=1,LINEHAUL=2",
            "*=1,*=2",
            "LINEHAUL=1,,FUEL=2",
        ] {
            assert!(GlAccounts::parse(bad).is_err(), "{bad:?}");
        }
    }
}
