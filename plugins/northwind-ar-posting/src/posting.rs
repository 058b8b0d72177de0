//! The AR posting body Northwind ERP accepts (field names fixed by the ERP:
//! snake_case, decimal-string amounts, unknown optionals as `null`).

use serde::Serialize;

/// Schema id of the ERP's AR posting.
pub const AR_POSTING: &str = "vendor:northwind-erp.ar-posting@1";

/// One sales invoice to post to receivables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArPosting {
    /// Always `sales_invoice`.
    pub posting_type: &'static str,
    /// ERP customer number.
    pub customer: String,
    /// ERP sales order number.
    pub sales_order: String,
    /// Invoice number as printed.
    pub invoice_no: String,
    /// `YYYY-MM-DD`.
    pub posting_date: String,
    /// ISO 4217, upper case.
    pub currency: String,
    /// Revenue lines.
    pub lines: Vec<PostingLine>,
    /// Tax lines.
    pub taxes: Vec<PostingTax>,
    /// Total, tax included, as a decimal string.
    pub grand_total: String,
    /// Who approved the posting.
    pub approval: PostingApproval,
}

/// One revenue line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostingLine {
    /// ERP item code.
    pub item_code: String,
    /// Line description, `null` when unknown.
    pub description: Option<String>,
    /// Decimal string, e.g. `612.40`.
    pub amount: String,
    /// GL revenue account.
    pub gl_account: String,
}

/// One tax line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostingTax {
    /// GL tax account.
    pub account: String,
    /// Rate in percent (5.0), `null` when unknown.
    pub rate: Option<f64>,
    /// Decimal string.
    pub amount: String,
}

/// The approval the ERP requires on every posting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostingApproval {
    /// Always `APPROVED`.
    pub status: &'static str,
    /// `policy:<name>` or `user:<login>`.
    pub approved_by: String,
}
