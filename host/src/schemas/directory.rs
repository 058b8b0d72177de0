//! Checks a whole registry: each entity's consecutive minors within every
//! major, oldest to newest.

use super::compat::{BreakingChange, check_compatible};
use super::registry::{CompiledSchema, SchemaRegistry};

/// Every breaking change between consecutive minors of the same major, as
/// (`"order 1.0 -> 1.1"`, change). Majors are never compared with each other.
pub fn check_directory(registry: &SchemaRegistry) -> Vec<(String, BreakingChange)> {
    let mut out = Vec::new();
    let mut previous: Option<&CompiledSchema> = None;
    // `schemas()` yields ids in (entity, major, minor) order.
    for schema in registry.schemas() {
        if let Some(older) =
            previous.filter(|p| p.id.entity == schema.id.entity && p.id.major == schema.id.major)
        {
            let label = format!(
                "{} {}.{} -> {}.{}",
                schema.id.entity, older.id.major, older.id.minor, schema.id.major, schema.id.minor
            );
            for change in check_compatible(&older.schema, &schema.schema) {
                out.push((label.clone(), change));
            }
        }
        previous = Some(schema);
    }
    out
}
