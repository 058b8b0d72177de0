//! Acme's charge lines (decimal-string amounts under Acme charge codes) as
//! canonical charge lines in integer minor units, for both lists Acme sends.
//!
//! The rules are the same for the quote and the final charges: a known code,
//! an amount with no more decimals than its currency has (never through
//! floating point), a negative `DISCOUNT`, one currency for the whole list
//! (the first line's), and a sum that fits. Every problem is recorded at once,
//! by JSON pointer into the list; only the wording of the list-level
//! messages, the charge source and how a padded currency is read differ by
//! list ([`ChargeList`]).

use crate::charge_code::{CODES, to_charge_code};
use serde::Deserialize;
use waybill_sdk::canonical::{
    Charge, ChargeCode, ChargeSource, currency_exponent, decimal_to_minor,
};
use waybill_sdk::problems::{Problems, present};

/// One Acme charge line as it arrives, every field optional so that missing
/// fields are reported together; `amount` is a decimal string such as
/// `"612.40"`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChargeLine {
    pub code: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub note: Option<String>,
}

/// The two charge lists Acme sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeList {
    /// `quotedCharges` of a booking answer; lines of source `quoted`.
    Quoted,
    /// `charges` of a `CARRIER_CHARGES_FINAL` event; lines of source
    /// `carrier-final`.
    CarrierFinal,
}

impl ChargeList {
    /// JSON pointer of the list in its message.
    pub fn pointer(self) -> &'static str {
        match self {
            Self::Quoted => "/quotedCharges",
            Self::CarrierFinal => "/charges",
        }
    }

    /// The canonical source of the list's lines.
    pub fn source(self) -> ChargeSource {
        match self {
            Self::Quoted => ChargeSource::Quoted,
            Self::CarrierFinal => ChargeSource::CarrierFinal,
        }
    }

    /// [`Self::source`] as it appears in canonical ids (of the lines, and of
    /// a charge package built from them).
    pub fn id_part(self) -> &'static str {
        match self {
            Self::Quoted => "quoted",
            Self::CarrierFinal => "carrier-final",
        }
    }

    /// Whether a currency code is trimmed before it is checked: a booking
    /// answer's ` usd ` is `USD`, while the final charges must send the code
    /// bare (a padded one is `invalid-currency`), as each plugin always did.
    fn trims_currency(self) -> bool {
        matches!(self, Self::Quoted)
    }

    fn empty_message(self) -> &'static str {
        match self {
            Self::Quoted => "a booking must quote at least one charge",
            Self::CarrierFinal => "final charges must list at least one charge",
        }
    }

    fn mixed_currency_message(self, i: usize, currency: &str, first: &str) -> String {
        match self {
            Self::Quoted => format!(
                "quoted charge {i} is in {currency} but the first one is in {first}; a quote has one currency"
            ),
            Self::CarrierFinal => format!(
                "charge {i} is in {currency} but the first charge is in {first}; one package has one currency"
            ),
        }
    }

    fn overflow_message(self) -> &'static str {
        match self {
            Self::Quoted => "the sum of the quoted charges overflows",
            Self::CarrierFinal => "the sum of the charges overflows",
        }
    }
}

/// A mapped list: its canonical lines, their currency and their sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Charges {
    /// The canonical lines, in Acme's order.
    pub lines: Vec<Charge>,
    /// The list's ISO 4217 currency (the first line's), upper case.
    pub currency: Option<String>,
    /// Sum of the lines in minor units.
    pub total_minor: i64,
}

/// Maps `lines`, Acme's `list`, recording every problem in `p`: a missing
/// (`required`) or empty (`empty`) list, and each line's problems at
/// `<list>/<i>/<field>`. Charge ids are `<id_prefix>:<source>:<line, from
/// 1>`. A line with problems is left out; the caller's `p.finish` fails then.
pub fn to_charges(
    p: &mut Problems,
    list: ChargeList,
    lines: Option<&[ChargeLine]>,
    id_prefix: &str,
) -> Charges {
    let pointer = list.pointer();
    let lines = match lines {
        None => {
            p.push(pointer, "required", format!("{pointer} is required"));
            return Charges::default();
        }
        Some([]) => {
            p.push(pointer, "empty", list.empty_message());
            return Charges::default();
        }
        Some(lines) => lines,
    };
    let mut charges = Charges::default();
    for (i, line) in lines.iter().enumerate() {
        let line_currency = currency(p, list, line, i);
        match (&charges.currency, &line_currency) {
            (None, Some(c)) => charges.currency = Some(c.clone()),
            (Some(first), Some(c)) if first != c => p.push(
                &format!("{pointer}/{i}/currency"),
                "mixed-currency",
                list.mixed_currency_message(i, c, first),
            ),
            _ => {}
        }
        // Checked even without a usable currency (with two decimal places),
        // so that every problem of the line is reported at once.
        let checked = charge(
            p,
            list,
            line,
            i,
            id_prefix,
            line_currency.as_deref().unwrap_or(""),
        );
        if let (Some(c), Some(_)) = (checked, line_currency) {
            charges.lines.push(c);
        }
    }
    let total = charges
        .lines
        .iter()
        .try_fold(0i64, |sum, c| sum.checked_add(c.amount_minor));
    match total {
        Some(t) => charges.total_minor = t,
        None => p.push(pointer, "out-of-range", list.overflow_message()),
    }
    charges
}

/// The line's ISO 4217 currency, upper-cased.
fn currency(p: &mut Problems, list: ChargeList, line: &ChargeLine, i: usize) -> Option<String> {
    let path = format!("{}/{i}/currency", list.pointer());
    let raw = p.required(line.currency.as_deref(), &path);
    let raw = if list.trims_currency() {
        raw.trim()
    } else {
        raw
    };
    if raw.is_empty() {
        return None;
    }
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
        Some(raw.to_ascii_uppercase())
    } else {
        p.push(
            &path,
            "invalid-currency",
            format!("{raw:?} is not an ISO 4217 currency code"),
        );
        None
    }
}

/// One canonical charge line, numbered from 1 in Acme's order.
fn charge(
    p: &mut Problems,
    list: ChargeList,
    line: &ChargeLine,
    i: usize,
    id_prefix: &str,
    currency: &str,
) -> Option<Charge> {
    let pointer = list.pointer();
    let code_path = format!("{pointer}/{i}/code");
    let source_code = p.required(line.code.as_deref(), &code_path);
    let code = to_charge_code(source_code);
    if code.is_none() && !source_code.is_empty() {
        p.push(
            &code_path,
            "unknown-code",
            format!(
                "unknown Acme charge code {source_code:?}; expected one of {}",
                CODES.join(", ")
            ),
        );
    }
    let amount_path = format!("{pointer}/{i}/amount");
    let raw = p.required(line.amount.as_deref(), &amount_path);
    let amount = if raw.is_empty() {
        None
    } else {
        match decimal_to_minor(raw, currency_exponent(currency)) {
            Ok(a) => Some(a),
            Err(e) if currency.is_empty() => {
                p.push(&amount_path, "invalid-amount", e);
                None
            }
            Err(e) => {
                p.push(&amount_path, "invalid-amount", format!("{e} ({currency})"));
                None
            }
        }
    };
    if let (Some(ChargeCode::Discount), Some(a)) = (code, amount)
        && a >= 0
    {
        p.push(
            &amount_path,
            "discount-not-negative",
            format!("a DISCOUNT must be negative; got {raw}"),
        );
    }
    Some(Charge {
        charge_id: format!("{id_prefix}:{}:{}", list.id_part(), i + 1),
        code: code?,
        source_code: source_code.into(),
        description: present(line.note.as_deref()).map(str::to_string),
        amount_minor: amount?,
        currency: currency.into(),
        source: list.source(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use waybill_sdk::PluginError;

    fn line(code: &str, amount: &str, currency: &str) -> ChargeLine {
        ChargeLine {
            code: Some(code.into()),
            amount: Some(amount.into()),
            currency: Some(currency.into()),
            note: None,
        }
    }

    /// (path, code, message) of every problem recorded in `p`.
    fn problems(p: Problems) -> Vec<(String, String, String)> {
        match p.into_error() {
            PluginError::InvalidInput { violations } => violations
                .into_iter()
                .map(|v| (v.path, v.code, v.message))
                .collect(),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn lines_become_canonical_charges() {
        let mut p = Problems::default();
        let lines = [
            ChargeLine {
                note: Some("Base".into()),
                ..line("LINEHAUL", "612.40", "usd")
            },
            line("DISCOUNT", "-12.4", "USD"),
        ];
        let charges = to_charges(&mut p, ChargeList::CarrierFinal, Some(&lines), "BOL1");
        assert!(p.finish(()).is_ok());
        assert_eq!(charges.currency.as_deref(), Some("USD"));
        assert_eq!(charges.total_minor, 60000);
        let first = &charges.lines[0];
        assert_eq!(first.charge_id, "BOL1:carrier-final:1");
        assert_eq!(first.code, ChargeCode::Linehaul);
        assert_eq!(first.description.as_deref(), Some("Base"));
        assert_eq!(first.source, ChargeSource::CarrierFinal);
        assert_eq!(charges.lines[1].amount_minor, -1240);

        let mut p = Problems::default();
        let quoted = to_charges(&mut p, ChargeList::Quoted, Some(&lines[..1]), "TMS-1");
        assert!(p.finish(()).is_ok());
        assert_eq!(quoted.lines[0].charge_id, "TMS-1:quoted:1");
        assert_eq!(quoted.lines[0].source, ChargeSource::Quoted);
    }

    #[test]
    fn only_a_quote_trims_its_currency() {
        let lines = [line("FUEL", "1.00", " cad ")];
        let mut p = Problems::default();
        let quoted = to_charges(&mut p, ChargeList::Quoted, Some(&lines), "T");
        assert!(p.finish(()).is_ok());
        assert_eq!(quoted.currency.as_deref(), Some("CAD"));

        let mut p = Problems::default();
        let final_charges = to_charges(&mut p, ChargeList::CarrierFinal, Some(&lines), "B");
        assert_eq!(final_charges.lines, []);
        assert_eq!(
            problems(p),
            [(
                "/charges/0/currency".into(),
                "invalid-currency".into(),
                "\" cad \" is not an ISO 4217 currency code".into()
            )]
        );
    }

    #[test]
    fn every_problem_of_every_line_is_recorded() {
        let lines = [
            line("LINEHAUL", "10.00", "USD"),
            line("TAX", "1.001", "JPY"),
            line("DISCOUNT", "5", "USD"),
            ChargeLine::default(),
        ];
        let mut p = Problems::default();
        to_charges(&mut p, ChargeList::Quoted, Some(&lines), "T");
        let found: Vec<(String, String)> =
            problems(p).into_iter().map(|(a, b, _)| (a, b)).collect();
        let want = [
            ("/quotedCharges/1/currency", "mixed-currency"),
            ("/quotedCharges/1/code", "unknown-code"),
            ("/quotedCharges/1/amount", "invalid-amount"),
            ("/quotedCharges/2/amount", "discount-not-negative"),
            ("/quotedCharges/3/currency", "required"),
            ("/quotedCharges/3/code", "required"),
            ("/quotedCharges/3/amount", "required"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(found, want);
    }

    #[test]
    fn list_problems_are_worded_for_their_list() {
        let cases = [
            (
                ChargeList::Quoted,
                None,
                "required",
                "/quotedCharges is required",
            ),
            (
                ChargeList::CarrierFinal,
                None,
                "required",
                "/charges is required",
            ),
            (
                ChargeList::Quoted,
                Some(0),
                "empty",
                "a booking must quote at least one charge",
            ),
            (
                ChargeList::CarrierFinal,
                Some(0),
                "empty",
                "final charges must list at least one charge",
            ),
        ];
        for (list, len, code, message) in cases {
            let lines = len.map(|_| &[][..]);
            let mut p = Problems::default();
            assert_eq!(to_charges(&mut p, list, lines, "X"), Charges::default());
            assert_eq!(
                problems(p),
                [(list.pointer().into(), code.into(), message.into())]
            );
        }
        let big = [
            line("LINEHAUL", "92233720368547758.07", "USD"),
            line("FUEL", "1", "USD"),
        ];
        for (list, message) in [
            (
                ChargeList::Quoted,
                "the sum of the quoted charges overflows",
            ),
            (ChargeList::CarrierFinal, "the sum of the charges overflows"),
        ] {
            let mut p = Problems::default();
            to_charges(&mut p, list, Some(&big), "X");
            assert_eq!(
                problems(p),
                [(list.pointer().into(), "out-of-range".into(), message.into())]
            );
        }
        let mixed = [line("LINEHAUL", "1", "USD"), line("FUEL", "1", "CAD")];
        let mut p = Problems::default();
        to_charges(&mut p, ChargeList::CarrierFinal, Some(&mixed), "X");
        assert_eq!(
            problems(p)[0].2,
            "charge 1 is in CAD but the first charge is in USD; one package has one currency"
        );
    }
}
