//! Fuzzes the schema compatibility checker (`waybill::schemas::check_compatible`)
//! with two JSON documents, the older and the newer schema, separated by a
//! NUL byte (JSON text cannot hold a raw NUL).
//!
//! Besides "never panics or overflows the stack" (cyclic and deep `$ref`s),
//! it checks that a schema never breaks itself: comparing a document with
//! itself may only say "unverifiable", never name a breaking change.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use waybill::schemas::{BreakingChange, check_compatible, kind};

fn check(older: &Value, newer: &Value) -> Vec<BreakingChange> {
    let changes = check_compatible(older, newer);
    for change in &changes {
        assert!(
            change.pointer.is_empty() || change.pointer.starts_with('/'),
            "not a JSON pointer: {change:?}"
        );
        assert!(!change.message.is_empty(), "{change:?}");
    }
    changes
}

fuzz_target!(|data: &[u8]| {
    let (older, newer) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, data),
    };
    let (Ok(older), Ok(newer)) = (
        serde_json::from_slice::<Value>(older),
        serde_json::from_slice::<Value>(newer),
    ) else {
        return;
    };
    check(&older, &newer);
    check(&newer, &older);
    for schema in [&older, &newer] {
        let breaking: Vec<_> = check(schema, schema)
            .into_iter()
            .filter(|c| c.kind != kind::UNVERIFIABLE)
            .collect();
        assert!(breaking.is_empty(), "a schema breaks itself: {breaking:?}");
    }
});
