//! Which canonical record a message carries: the kind is its schema id, and
//! any minor of major 1 is accepted (minors only add optional fields).

use waybill_sdk::canonical::is_version_of;
use waybill_sdk::{Message, PluginError};

/// The record a message carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference {
    /// `customer@1.x`.
    Customer,
    /// `carrier@1.x`.
    Carrier,
}

/// The record `input` carries; anything but a JSON `customer@1.x` or
/// `carrier@1.x` is `unsupported`, naming `plugin`.
pub fn of(input: &Message, plugin: &str) -> Result<Reference, PluginError> {
    let reference = if is_version_of(&input.kind, "customer", 1) {
        Reference::Customer
    } else if is_version_of(&input.kind, "carrier", 1) {
        Reference::Carrier
    } else {
        return Err(PluginError::unsupported(format!(
            "{plugin} maps customer@1.x and carrier@1.x, not {:?}",
            input.kind
        )));
    };
    if !input.is_json() {
        return Err(PluginError::unsupported(format!(
            "content type {:?} is not JSON",
            input.content_type
        )));
    }
    Ok(reference)
}
