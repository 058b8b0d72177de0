//! What is compared with the quote: a charge package's `charges` or an
//! invoice's `lines`, reduced to the same charge lines, together with the
//! words and JSON pointers of the document they came from, so that one
//! check serves both and its violations point into the right document.

use std::borrow::Cow;
use waybill_sdk::canonical::{Charge, ChargePackage, ChargeSource, Invoice};

/// A declared total and what it should be the sum of.
#[derive(Debug, Clone)]
pub struct DeclaredTotal {
    /// Pointer of the total, e.g. `/total_minor`.
    pub path: &'static str,
    /// Field name in messages, e.g. `total_minor`.
    pub field: &'static str,
    /// The value the document declares.
    pub declared: i64,
    /// The sum it should equal.
    pub parts: i128,
    /// What was summed, in messages: `charges`, `lines and taxes`.
    pub parts_label: &'static str,
}

/// The figures of one document to compare with its quote.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// `package` or `invoice`, in messages.
    pub noun: &'static str,
    /// The document's id (package id, invoice id), in messages.
    pub id: &'a str,
    /// The document's currency.
    pub currency: &'a str,
    /// The field holding the compared lines: `charges` or `lines`.
    pub field: &'static str,
    /// What the compared figures are, in messages: `final` or `billed`.
    pub figure: &'static str,
    /// The compared lines as charges, in document order.
    pub charges: Cow<'a, [Charge]>,
    /// The quote.
    pub references: &'a [Charge],
    /// Totals the document declares, checked against their parts.
    pub totals: Vec<DeclaredTotal>,
    /// Where a drift of the quoted codes' total is reported.
    pub quoted_total_path: &'static str,
}

impl<'a> Subject<'a> {
    /// A charge package: its `charges` (final or billed figures).
    pub fn package(package: &'a ChargePackage) -> Self {
        Subject {
            noun: "package",
            id: &package.package_id,
            currency: &package.currency,
            field: "charges",
            figure: "final",
            charges: Cow::Borrowed(&package.charges),
            references: &package.reference_charges,
            totals: vec![DeclaredTotal {
                path: "/total_minor",
                field: "total_minor",
                declared: package.total_minor,
                parts: sum(package.charges.iter().map(|c| c.amount_minor)),
                parts_label: "charges",
            }],
            quoted_total_path: "/total_minor",
        }
    }

    /// An invoice: its `lines` (taxes excluded), each in the invoice
    /// currency; an `OTHER` line is told apart by its `item_code`.
    pub fn invoice(invoice: &'a Invoice) -> Self {
        let charges = invoice
            .lines
            .iter()
            .map(|line| Charge {
                charge_id: line
                    .charge_id
                    .clone()
                    .unwrap_or_else(|| format!("{}:billed:{}", invoice.invoice_id, line.line_no)),
                code: line.code,
                source_code: line.item_code.clone().unwrap_or_default(),
                description: line.description.clone(),
                amount_minor: line.amount_minor,
                currency: invoice.currency.clone(),
                source: ChargeSource::Billed,
            })
            .collect::<Vec<_>>();
        let lines = sum(invoice.lines.iter().map(|l| l.amount_minor));
        let taxes = sum(invoice.taxes.iter().map(|t| t.amount_minor));
        let mut totals = Vec::new();
        if let Some(subtotal) = invoice.subtotal_minor {
            totals.push(DeclaredTotal {
                path: "/subtotal_minor",
                field: "subtotal_minor",
                declared: subtotal,
                parts: lines,
                parts_label: "lines",
            });
        }
        totals.push(DeclaredTotal {
            path: "/total_minor",
            field: "total_minor",
            declared: invoice.total_minor,
            parts: lines + taxes,
            parts_label: "lines and taxes",
        });
        Subject {
            noun: "invoice",
            id: &invoice.invoice_id,
            currency: &invoice.currency,
            field: "lines",
            figure: "billed",
            charges: Cow::Owned(charges),
            references: &invoice.reference_charges,
            totals,
            quoted_total_path: if invoice.subtotal_minor.is_some() {
                "/subtotal_minor"
            } else {
                "/lines"
            },
        }
    }
}

fn sum(amounts: impl Iterator<Item = i64>) -> i128 {
    amounts.map(i128::from).sum()
}
