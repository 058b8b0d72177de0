//! Codes one invoice: GL accounts on lines and taxes, the computed tax of
//! an untaxed invoice, and the recomputed subtotal and total.

use crate::accounts::GL_ACCOUNTS_KEY;
use crate::settings::{Settings, missing};
use crate::tax::{TAX_ACCOUNT_KEY, TAX_RATE_KEY, tax_on};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{Invoice, InvoiceTax};
use waybill_sdk::problems::{Problems, present};

/// The coded invoice, or every problem of the invoice and the configuration.
pub fn code(
    mut invoice: Invoice,
    settings: &Settings,
    mut p: Problems,
) -> Result<Invoice, PluginError> {
    if present(invoice.order_id.as_deref()).is_none() {
        p.push(
            "/order_id",
            "required",
            "the finance flow keys invoices by order; this invoice has no order_id",
        );
    }
    code_lines(&mut invoice, settings, &mut p);

    let subtotal = sum(invoice.lines.iter().map(|l| l.amount_minor));
    let taxed = sum(invoice.taxes.iter().map(|t| t.amount_minor));
    let (Some(subtotal), Some(taxed)) = (subtotal, taxed) else {
        p.push("/lines", "out-of-range", "the invoice amounts overflow");
        return Err(p.into_error());
    };
    if let Some(declared) = invoice.subtotal_minor
        && declared != subtotal
    {
        p.push(
            "/subtotal_minor",
            "total-mismatch",
            format!("subtotal_minor is {declared} but the lines sum to {subtotal}"),
        );
    }
    match subtotal.checked_add(taxed) {
        Some(expected) if expected == invoice.total_minor => {}
        Some(expected) => p.push(
            "/total_minor",
            "total-mismatch",
            format!(
                "total_minor is {} but the lines ({subtotal}) and taxes ({taxed}) sum to {expected}",
                invoice.total_minor
            ),
        ),
        None => p.push("/total_minor", "out-of-range", "the invoice amounts overflow"),
    }

    if invoice.taxes.is_empty() {
        add_computed_tax(&mut invoice, subtotal, settings, &mut p);
    }
    if !invoice.taxes.is_empty() {
        match &settings.tax_account {
            Some(account) => {
                for tax in &mut invoice.taxes {
                    tax.account = Some(account.clone());
                }
            }
            None => missing(
                &mut p,
                TAX_ACCOUNT_KEY,
                "every tax posts to a GL tax account",
            ),
        }
    }
    let total =
        sum(invoice.taxes.iter().map(|t| t.amount_minor)).and_then(|t| t.checked_add(subtotal));
    match total {
        Some(total) => invoice.total_minor = total,
        None => p.push(
            "/total_minor",
            "out-of-range",
            "the invoice amounts overflow",
        ),
    }
    invoice.subtotal_minor = Some(subtotal);
    p.finish(invoice)
}

/// Sets every line's `gl_account` from `gl_accounts`.
fn code_lines(invoice: &mut Invoice, settings: &Settings, p: &mut Problems) {
    let Some(accounts) = &settings.accounts else {
        if !settings.accounts_set {
            missing(p, GL_ACCOUNTS_KEY, "every line needs a GL revenue account");
        }
        return;
    };
    for (i, line) in invoice.lines.iter_mut().enumerate() {
        match accounts.account(line.code) {
            Some(account) => line.gl_account = Some(account.to_string()),
            None => p.push(
                &format!("/lines/{i}/code"),
                "no-gl-account",
                format!(
                    "line {} has no GL account: config {GL_ACCOUNTS_KEY} lists neither {} nor a default (*)",
                    line.line_no,
                    code_name(line)
                ),
            ),
        }
    }
}

/// Adds the tax of an untaxed invoice at `tax_rate_bps` (none at rate 0).
fn add_computed_tax(invoice: &mut Invoice, subtotal: i64, settings: &Settings, p: &mut Problems) {
    let Some(rate) = settings.tax_rate_bps else {
        if !settings.tax_rate_set {
            missing(
                p,
                TAX_RATE_KEY,
                "the invoice has no taxes, so one is computed (0 for none)",
            );
        }
        return;
    };
    if rate == 0 {
        return;
    }
    match tax_on(subtotal, rate) {
        Some(amount) => invoice.taxes.push(InvoiceTax {
            code: None,
            rate_bps: Some(rate),
            amount_minor: amount,
            account: None,
        }),
        None => p.push("/lines", "out-of-range", "the computed tax overflows"),
    }
}

/// The line's canonical code as written in the schema.
fn code_name(line: &waybill_sdk::canonical::InvoiceLine) -> String {
    serde_json::to_value(line.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The sum of `amounts`, `None` on overflow.
fn sum(mut amounts: impl Iterator<Item = i64>) -> Option<i64> {
    amounts.try_fold(0i64, |total, a| total.checked_add(a))
}
