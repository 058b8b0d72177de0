//! Builds the AR posting from a coded, approved canonical invoice.

use crate::posting::{ArPosting, PostingApproval, PostingLine, PostingTax};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{Invoice, minor_to_decimal};
use waybill_sdk::problems::{Problems, present};
use waybill_sdk::time::{is_date, is_rfc3339};

/// Header the host's approval step sets: `policy:<name>` or `user:<login>`.
pub const APPROVED_BY_HEADER: &str = "x-waybill-approved-by";

/// Maps the invoice; `approved_by_header` is the approval header, if any.
pub fn to_posting(
    invoice: &Invoice,
    approved_by_header: Option<&str>,
) -> Result<ArPosting, PluginError> {
    let mut p = Problems::default();
    let currency = invoice.currency.as_str();
    let sales_order = match present(invoice.order_id.as_deref()) {
        Some(order) => order.trim().to_string(),
        None => {
            p.push(
                "/order_id",
                "required",
                "the ERP posts invoices against a sales order; this invoice has no order_id",
            );
            String::new()
        }
    };
    let posting_date = posting_date(&mut p, invoice);
    let approved_by = approved_by(&mut p, invoice, approved_by_header);

    let mut lines = Vec::with_capacity(invoice.lines.len());
    for (i, line) in invoice.lines.iter().enumerate() {
        let item_code = p.required(line.item_code.as_deref(), &format!("/lines/{i}/item_code"));
        let gl_account = match present(line.gl_account.as_deref()) {
            Some(account) => account,
            None => {
                p.push(
                    &format!("/lines/{i}/gl_account"),
                    "required",
                    format!(
                        "line {} has no gl_account; the invoice must be GL-coded before posting",
                        line.line_no
                    ),
                );
                ""
            }
        };
        lines.push(PostingLine {
            item_code: item_code.trim().into(),
            description: present(line.description.as_deref()).map(str::to_string),
            amount: minor_to_decimal(line.amount_minor, currency),
            gl_account: gl_account.trim().into(),
        });
    }

    let mut taxes = Vec::with_capacity(invoice.taxes.len());
    for (i, tax) in invoice.taxes.iter().enumerate() {
        let account = match present(tax.account.as_deref()) {
            Some(account) => account,
            None => {
                p.push(
                    &format!("/taxes/{i}/account"),
                    "required",
                    "the tax has no GL account; the invoice must be tax-coded before posting",
                );
                ""
            }
        };
        taxes.push(PostingTax {
            account: account.trim().into(),
            rate: tax.rate_bps.map(|bps| f64::from(bps) / 100.0),
            amount: minor_to_decimal(tax.amount_minor, currency),
        });
    }

    let parts = invoice
        .lines
        .iter()
        .map(|l| i128::from(l.amount_minor))
        .chain(invoice.taxes.iter().map(|t| i128::from(t.amount_minor)))
        .sum::<i128>();
    if parts != i128::from(invoice.total_minor) {
        p.push(
            "/total_minor",
            "total-mismatch",
            format!(
                "total_minor is {} but the lines and taxes sum to {parts}; the ERP would post an unbalanced invoice",
                invoice.total_minor
            ),
        );
    }

    p.finish(ArPosting {
        posting_type: "sales_invoice",
        customer: invoice.customer_id.clone(),
        sales_order,
        invoice_no: invoice.invoice_id.clone(),
        posting_date,
        currency: invoice.currency.clone(),
        lines,
        taxes,
        grand_total: minor_to_decimal(invoice.total_minor, currency),
        approval: PostingApproval {
            status: "APPROVED",
            approved_by,
        },
    })
}

/// The invoice's `issue_date`, else the date part of `source_created_at`.
fn posting_date(p: &mut Problems, invoice: &Invoice) -> String {
    if let Some(date) = present(invoice.issue_date.as_deref()) {
        if is_date(date) {
            return date.into();
        }
        p.push(
            "/issue_date",
            "invalid-date",
            format!("{date:?} is not a date YYYY-MM-DD"),
        );
        return String::new();
    }
    if let Some(time) = present(invoice.source_created_at.as_deref()) {
        if is_rfc3339(time) {
            return time[..10].into();
        }
        p.push(
            "/source_created_at",
            "invalid-time",
            format!("{time:?} is not an RFC 3339 date-time with an offset"),
        );
        return String::new();
    }
    p.push(
        "/issue_date",
        "required",
        "the posting date is the invoice's issue_date, else the date of source_created_at; the invoice has neither",
    );
    String::new()
}

/// Who approved: the invoice's `approval`, else the approval header.
fn approved_by(p: &mut Problems, invoice: &Invoice, header: Option<&str>) -> String {
    if let Some(approval) = &invoice.approval {
        if let Some(by) = present(Some(approval.approved_by.as_str())) {
            return by.trim().into();
        }
        p.push(
            "/approval/approved_by",
            "required",
            "/approval/approved_by is required",
        );
        return String::new();
    }
    match present(header) {
        Some(by) => by.trim().into(),
        None => {
            p.push(
                "/approval",
                "not-approved",
                format!(
                    "invoice {} is not approved: it has no approval and the message no {APPROVED_BY_HEADER} header; the ERP only accepts approved postings",
                    invoice.invoice_id
                ),
            );
            String::new()
        }
    }
}
