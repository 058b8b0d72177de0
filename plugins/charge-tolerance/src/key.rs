//! What charges are compared by: their canonical code, and for `OTHER` the
//! vendor's code too (two unrelated "other" fees are not the same charge).

use waybill_sdk::canonical::{Charge, ChargeCode};

/// The comparison key of a charge line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// Any canonical code but `OTHER`.
    Code(ChargeCode),
    /// `OTHER` with the vendor's code.
    Other(String),
}

impl Key {
    /// The key of `charge`.
    pub fn of(charge: &Charge) -> Self {
        match charge.code {
            ChargeCode::Other => Key::Other(charge.source_code.clone()),
            code => Key::Code(code),
        }
    }

    /// How the key reads in messages: `FUEL`, `OTHER (HAZMAT)`.
    pub fn label(&self) -> String {
        match self {
            Key::Code(code) => serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| format!("{code:?}")),
            Key::Other(source) => format!("OTHER ({source})"),
        }
    }
}
