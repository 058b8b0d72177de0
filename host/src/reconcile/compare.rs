//! The rules applied to one (entity, id) group: who lacks it, who holds it
//! twice, and where the systems that hold it disagree (status, amount,
//! currency, attributes). Pure apart from the amount validator, and fed one
//! group at a time, so it never sees more than a handful of records.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use waybill_sdk::canonical::minor_to_decimal;

use super::amount::{AmountCheck, Side, charge_package};
use super::error::ReconcileError;
use super::finding::{Finding, FindingKind};
use super::record::SnapshotRecord;
use super::rules::EntityRules;

/// Applies every entity's rules to groups of records.
pub(crate) struct Comparer {
    pub entities: BTreeMap<String, EntityRules>,
    pub amounts: Option<Box<dyn AmountCheck>>,
    pub run_id: String,
    /// A `since` run sees only recent changes: absence proves nothing.
    pub incremental: bool,
}

type Chosen<'a> = Vec<(&'a str, &'a SnapshotRecord)>;

impl Comparer {
    /// The findings of one (entity, id) group, appended to `out`.
    pub fn compare(
        &self,
        group: &[SnapshotRecord],
        out: &mut Vec<Finding>,
    ) -> Result<(), ReconcileError> {
        let Some(first) = group.first() else {
            return Ok(());
        };
        let Some(rules) = self.entities.get(&first.entity) else {
            return Ok(());
        };
        let g = Group {
            comparer: self,
            rules,
            entity: &first.entity,
            id: &first.id,
            what: format!("{} {}", first.entity, first.id),
        };
        let chosen = g.choose(group, out);
        if !self.incremental {
            g.missing(&chosen, out);
        }
        if rules.compare_status {
            g.status(&chosen, out);
        }
        if rules.compare_amount
            && let Some(check) = &self.amounts
        {
            g.amounts(&chosen, check.as_ref(), out)?;
        }
        g.attributes(&chosen, out);
        Ok(())
    }
}

/// One (entity, id) being compared.
struct Group<'a> {
    comparer: &'a Comparer,
    rules: &'a EntityRules,
    entity: &'a str,
    id: &'a str,
    /// `order SO-1`, for messages.
    what: String,
}

impl Group<'_> {
    fn finding(
        &self,
        kind: FindingKind,
        systems: &[&str],
        observed: BTreeMap<String, Value>,
        message: String,
        aspect: &str,
    ) -> Finding {
        Finding {
            run_id: self.comparer.run_id.clone(),
            kind,
            entity: self.entity.to_owned(),
            id: self.id.to_owned(),
            systems: systems.iter().map(|s| s.to_string()).collect(),
            observed,
            message,
            violations: Vec::new(),
            dedupe_key: format!("recon:{kind}:{}:{}:{aspect}", self.entity, self.id),
        }
    }

    /// One record per system (reporting duplicates), in the rules' order.
    fn choose<'r>(&self, group: &'r [SnapshotRecord], out: &mut Vec<Finding>) -> Chosen<'r> {
        let mut chosen = Vec::new();
        for system in &self.rules.systems {
            let held: Vec<&SnapshotRecord> = group.iter().filter(|r| &r.system == system).collect();
            if held.len() > 1 {
                let views = held.iter().map(|r| r.summary()).collect();
                let observed = BTreeMap::from([(system.clone(), Value::Array(views))]);
                let message = format!(
                    "{} appears {} times in {system}'s snapshot",
                    self.what,
                    held.len()
                );
                let kind = FindingKind::Duplicate;
                out.push(self.finding(kind, &[system], observed, message, system));
            }
            if let Some(latest) = latest(&held) {
                chosen.push((latest.system.as_str(), latest));
            }
        }
        chosen
    }

    /// Every system lacking the id, unless all holders are in an ignored
    /// status. The lacking system is listed first.
    fn missing(&self, chosen: &Chosen<'_>, out: &mut Vec<Finding>) {
        let needs_all = chosen
            .iter()
            .any(|(_, r)| !self.rules.is_ignored(r.status.as_deref()));
        if !needs_all {
            return;
        }
        let present: Vec<&str> = chosen.iter().map(|(s, _)| *s).collect();
        for system in &self.rules.systems {
            if present.contains(&system.as_str()) {
                continue;
            }
            let mut observed: BTreeMap<String, Value> = chosen
                .iter()
                .map(|(s, r)| (s.to_string(), r.summary()))
                .collect();
            observed.insert(system.clone(), Value::Null);
            let mut systems = vec![system.as_str()];
            systems.extend(&present);
            let message = format!(
                "{} is in {} but missing in {system}",
                self.what,
                present.join(", ")
            );
            out.push(self.finding(FindingKind::Missing, &systems, observed, message, system));
        }
    }

    fn status(&self, chosen: &Chosen<'_>, out: &mut Vec<Finding>) {
        let said: Vec<(&str, &str)> = chosen
            .iter()
            .filter_map(|(s, r)| r.status.as_deref().map(|v| (*s, v)))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let keys: BTreeSet<String> = said.iter().map(|(_, v)| self.rules.status_key(v)).collect();
        if keys.len() > 1 {
            let systems: Vec<&str> = said.iter().map(|(s, _)| *s).collect();
            let message = format!("{}: statuses differ: {}", self.what, says(&said));
            let kind = FindingKind::StatusDrift;
            out.push(self.finding(kind, &systems, observed(&said), message, "status"));
        }
    }

    /// Each system's amount against the first system (in the rules' order)
    /// that states one.
    fn amounts(
        &self,
        chosen: &Chosen<'_>,
        check: &dyn AmountCheck,
        out: &mut Vec<Finding>,
    ) -> Result<(), ReconcileError> {
        let stated: Vec<(&str, &SnapshotRecord, i64)> = chosen
            .iter()
            .filter_map(|(s, r)| r.amount_minor.map(|a| (*s, *r, a)))
            .collect();
        let Some(((ref_system, ref_record, ref_amount), rest)) = stated.split_first() else {
            return Ok(());
        };
        for (system, record, amount) in rest {
            let (ref_currency, currency) = currencies(ref_record, record);
            let aspect = format!("{ref_system}:{system}");
            let systems = [*ref_system, *system];
            let pair = BTreeMap::from([
                (ref_system.to_string(), money(*ref_amount, &ref_currency)),
                (system.to_string(), money(*amount, &currency)),
            ]);
            if ref_currency != currency {
                let message = format!(
                    "{}: {ref_system} states the amount in {ref_currency}, {system} in {currency}",
                    self.what
                );
                let kind = FindingKind::CurrencyMismatch;
                out.push(self.finding(kind, &systems, pair, message, &aspect));
                continue;
            }
            if amount == ref_amount {
                continue;
            }
            let reference = Side {
                system: ref_system,
                amount_minor: *ref_amount,
                currency: &ref_currency,
            };
            let compared = Side {
                system,
                amount_minor: *amount,
                currency: &currency,
            };
            let violations =
                check.check(&charge_package(self.entity, self.id, reference, compared))?;
            let Some(first) = violations.first() else {
                continue;
            };
            let message = format!(
                "{}: {system} says {} {currency}, {ref_system} says {} {currency}: {}",
                self.what,
                minor_to_decimal(*amount, &currency),
                minor_to_decimal(*ref_amount, &currency),
                first.message
            );
            let mut f = self.finding(
                FindingKind::AmountMismatch,
                &systems,
                pair,
                message,
                &aspect,
            );
            f.violations = violations;
            out.push(f);
        }
        Ok(())
    }

    /// Listed attributes, compared trimmed, among the systems stating them.
    fn attributes(&self, chosen: &Chosen<'_>, out: &mut Vec<Finding>) {
        for attribute in &self.rules.attributes {
            let said: Vec<(&str, &str)> = chosen
                .iter()
                .filter_map(|(s, r)| r.attributes.get(attribute).map(|v| (*s, v.trim())))
                .collect();
            let values: BTreeSet<&str> = said.iter().map(|(_, v)| *v).collect();
            if values.len() > 1 {
                let systems: Vec<&str> = said.iter().map(|(s, _)| *s).collect();
                let message = format!("{}: {attribute} differs: {}", self.what, says(&said));
                let kind = FindingKind::AttributeDrift;
                out.push(self.finding(kind, &systems, observed(&said), message, attribute));
            }
        }
    }
}

/// The record with the latest `updated_at` (unparsable or absent counts as
/// oldest; ties go to the later line).
fn latest<'a>(held: &[&'a SnapshotRecord]) -> Option<&'a SnapshotRecord> {
    if let [only] = held {
        return Some(only);
    }
    held.iter()
        .max_by_key(|r| {
            r.updated_at
                .as_deref()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
        })
        .copied()
}

/// Both currencies upper-cased; a side that states none takes the other's.
fn currencies(a: &SnapshotRecord, b: &SnapshotRecord) -> (String, String) {
    let norm = |c: &Option<String>| {
        c.as_deref()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
    };
    match (norm(&a.currency), norm(&b.currency)) {
        (Some(x), Some(y)) => (x, y),
        (Some(x), None) => (x.clone(), x),
        (None, Some(y)) => (y.clone(), y),
        // ISO 4217's "no currency".
        (None, None) => ("XXX".into(), "XXX".into()),
    }
}

fn money(amount_minor: i64, currency: &str) -> Value {
    serde_json::json!({"amount_minor": amount_minor, "currency": currency})
}

fn observed(said: &[(&str, &str)]) -> BTreeMap<String, Value> {
    said.iter()
        .map(|(s, v)| (s.to_string(), Value::from(*v)))
        .collect()
}

/// `erp says "IN_TRANSIT", tms says "DELIVERED"`.
fn says(said: &[(&str, &str)]) -> String {
    said.iter()
        .map(|(s, v)| format!("{s} says {v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
