//! Minor units as people read them in messages: `47.31 USD`.

use waybill_sdk::canonical::minor_to_decimal;

/// `amount` of `currency` as a decimal with the currency's places.
pub fn show(amount: i128, currency: &str) -> String {
    match i64::try_from(amount) {
        Ok(a) => minor_to_decimal(a, currency),
        Err(_) => format!("{amount} minor units"),
    }
}
