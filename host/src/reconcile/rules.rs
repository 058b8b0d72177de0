//! One entity's rules from `[reconcile.entities.<name>]`, prepared for
//! comparison: statuses normalised (trimmed, upper case) and mapped to the
//! first status of their equivalence group.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::EntityConfig;

/// One entity's rules, with statuses normalised for comparison.
#[derive(Debug, Clone)]
pub(crate) struct EntityRules {
    pub systems: Vec<String>,
    pub compare_status: bool,
    pub compare_amount: bool,
    pub attributes: Vec<String>,
    ignore: BTreeSet<String>,
    equivalent: BTreeMap<String, String>,
}

impl EntityRules {
    pub fn new(cfg: &EntityConfig) -> Self {
        let mut equivalent = BTreeMap::new();
        for group in &cfg.status_equivalents {
            if let Some(first) = group.first() {
                for status in group {
                    equivalent.insert(normalise(status), normalise(first));
                }
            }
        }
        Self {
            systems: cfg.systems.clone(),
            compare_status: cfg.compare_status,
            compare_amount: cfg.compare_amount,
            attributes: cfg.attributes.clone(),
            ignore: cfg.ignore_statuses.iter().map(|s| normalise(s)).collect(),
            equivalent,
        }
    }

    /// The status as compared: trimmed, upper case, its group's first.
    pub fn status_key(&self, status: &str) -> String {
        let n = normalise(status);
        self.equivalent.get(&n).cloned().unwrap_or(n)
    }

    pub fn is_ignored(&self, status: Option<&str>) -> bool {
        status.is_some_and(|s| self.ignore.contains(&normalise(s)))
    }
}

fn normalise(status: &str) -> String {
    status.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_compare_normalised_and_by_equivalence() {
        let rules = EntityRules::new(&EntityConfig {
            systems: vec!["erp".into(), "tms".into()],
            ignore_statuses: vec!["void".into()],
            status_equivalents: vec![vec!["DELIVERED".into(), "pod_available".into()]],
            ..EntityConfig::default()
        });
        assert_eq!(rules.status_key(" delivered "), "DELIVERED");
        assert_eq!(rules.status_key("POD_AVAILABLE"), "DELIVERED");
        assert_eq!(rules.status_key("In_Transit"), "IN_TRANSIT");
        assert!(rules.is_ignored(Some("VOID ")));
        assert!(!rules.is_ignored(Some("OPEN")));
        assert!(!rules.is_ignored(None));
    }
}
