//! Builds the Ledgerly request from a canonical charge package.

use crate::request::{LineItem, ShipmentCharges};
use crate::sku::{OTHER_SKU, to_sku};
use waybill_sdk::PluginError;
use waybill_sdk::canonical::{Charge, ChargePackage};
use waybill_sdk::problems::{Problems, present};

/// Maps the package, or lists every problem found in it.
pub fn to_request(package: &ChargePackage) -> Result<ShipmentCharges, PluginError> {
    let mut p = Problems::default();
    let order_ref = match present(package.order_id.as_deref()) {
        Some(order) => order.trim().to_string(),
        None => {
            p.push(
                "/order_id",
                "required",
                "Ledgerly bills shipment charges against an order; this package has no order_id",
            );
            String::new()
        }
    };
    if package.charges.is_empty() {
        p.push("/charges", "empty", "the package has no charges to bill");
    }
    let mut line_items = Vec::with_capacity(package.charges.len());
    for (i, charge) in package.charges.iter().enumerate() {
        if charge.currency != package.currency {
            p.push(
                &format!("/charges/{i}/currency"),
                "mixed-currency",
                format!(
                    "{} is in {} but the package is in {}; Ledgerly bills one currency per request",
                    charge.charge_id, charge.currency, package.currency
                ),
            );
        }
        match line_item(charge) {
            Some(item) => line_items.push(item),
            None => p.push(
                &format!("/charges/{i}/code"),
                "unsupported-code",
                format!(
                    "{} is a TAX charge; Ledgerly computes tax itself and has no SKU for it",
                    charge.charge_id
                ),
            ),
        }
    }
    let sum: i128 = package
        .charges
        .iter()
        .map(|c| i128::from(c.amount_minor))
        .sum();
    if sum != i128::from(package.total_minor) {
        p.push(
            "/total_minor",
            "total-mismatch",
            format!(
                "total_minor is {} but the charges sum to {sum}",
                package.total_minor
            ),
        );
    }
    p.finish(ShipmentCharges {
        object: "shipment_charges",
        shipment_ref: None,
        order_ref,
        bol: package.shipment_id.clone(),
        currency: package.currency.to_ascii_lowercase(),
        line_items,
    })
}

/// One line item at quantity 1; `None` for a TAX charge.
fn line_item(charge: &Charge) -> Option<LineItem> {
    let (sku, standard) = to_sku(charge.code)?;
    let description = if sku == OTHER_SKU {
        other_description(charge, standard)
    } else {
        standard.to_string()
    };
    Some(LineItem {
        sku,
        description,
        unit_amount: charge.amount_minor,
        quantity: 1,
    })
}

/// An `OTHER` charge keeps what the source said it was: its description,
/// else its code, so billing can tell two other charges apart.
fn other_description(charge: &Charge, standard: &str) -> String {
    let description = present(charge.description.as_deref()).map(str::trim);
    let code = present(Some(charge.source_code.as_str())).map(str::trim);
    match (description, code) {
        (Some(d), Some(c)) => format!("{d} ({c})"),
        (Some(d), None) => d.to_string(),
        (None, Some(c)) => format!("{standard} ({c})"),
        (None, None) => standard.to_string(),
    }
}
