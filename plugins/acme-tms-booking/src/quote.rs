//! Acme's quoted charges as canonical charge lines (source `quoted`), in
//! exactly the shape `charge-tolerance` compares, so a booking's quote can be
//! copied as-is into `reference_charges` of a charge package or an invoice.

use crate::answer::QuotedCharge;
use crate::charge_code::{CODES, to_charge_code};
use waybill_sdk::canonical::{
    Charge, ChargeCode, ChargeSource, currency_exponent, decimal_to_minor,
};
use waybill_sdk::problems::{Problems, present};

/// [`ChargeSource::Quoted`] as it appears in canonical charge ids.
const SOURCE: &str = "quoted";

/// The quote: its lines, currency and total.
#[derive(Debug, Default)]
pub struct Quote {
    pub charges: Vec<Charge>,
    pub currency: Option<String>,
    pub total_minor: i64,
}

/// Maps `quotedCharges`, recording every problem in `p`. Charge ids are
/// `<id_prefix>:quoted:<line, from 1>`.
pub fn to_quote(p: &mut Problems, lines: Option<&[QuotedCharge]>, id_prefix: &str) -> Quote {
    let lines = match lines {
        None => {
            p.push("/quotedCharges", "required", "/quotedCharges is required");
            return Quote::default();
        }
        Some([]) => {
            p.push(
                "/quotedCharges",
                "empty",
                "a booking must quote at least one charge",
            );
            return Quote::default();
        }
        Some(lines) => lines,
    };
    let mut quote = Quote::default();
    for (i, line) in lines.iter().enumerate() {
        let line_currency = currency(p, line, i);
        match (&quote.currency, &line_currency) {
            (None, Some(c)) => quote.currency = Some(c.clone()),
            (Some(first), Some(c)) if first != c => p.push(
                &format!("/quotedCharges/{i}/currency"),
                "mixed-currency",
                format!(
                    "quoted charge {i} is in {c} but the first one is in {first}; a quote has one currency"
                ),
            ),
            _ => {}
        }
        // Checked even without a usable currency, so that every problem of
        // the line is reported at once.
        let checked = charge(
            p,
            line,
            i,
            id_prefix,
            line_currency.as_deref().unwrap_or(""),
        );
        if let (Some(c), Some(_)) = (checked, line_currency) {
            quote.charges.push(c);
        }
    }
    let total = quote
        .charges
        .iter()
        .try_fold(0i64, |sum, c| sum.checked_add(c.amount_minor));
    match total {
        Some(t) => quote.total_minor = t,
        None => p.push(
            "/quotedCharges",
            "out-of-range",
            "the sum of the quoted charges overflows",
        ),
    }
    quote
}

/// The line's ISO 4217 currency, upper-cased.
fn currency(p: &mut Problems, line: &QuotedCharge, i: usize) -> Option<String> {
    let path = format!("/quotedCharges/{i}/currency");
    let raw = p.required(line.currency.as_deref(), &path).trim();
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

/// One canonical quoted charge, numbered from 1 in Acme's order.
fn charge(
    p: &mut Problems,
    line: &QuotedCharge,
    i: usize,
    id_prefix: &str,
    currency: &str,
) -> Option<Charge> {
    let code_path = format!("/quotedCharges/{i}/code");
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
    let amount_path = format!("/quotedCharges/{i}/amount");
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
        charge_id: format!("{id_prefix}:{SOURCE}:{}", i + 1),
        code: code?,
        source_code: source_code.into(),
        description: present(line.note.as_deref()).map(str::to_string),
        amount_minor: amount?,
        currency: currency.into(),
        source: ChargeSource::Quoted,
    })
}
