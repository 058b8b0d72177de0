//! The stages a canonical document passes on one route target before it is
//! mapped for delivery: enrichment (a canonical -> canonical plugin), the
//! out-of-order guard, duplicate-line fingerprints and the approval policy
//! of financial postings (a validator plugin against the quoted figures).
//! A document that fails approval is held as an exception, not delivered.
//! The quote approval compares against comes from the run's [`QuoteBook`],
//! never from the store directly, so these stages stay pure.

use super::processor::{Processor, VersionPin, call, dead, failed, missing_plugin, stamp};
use super::quotes::{Lookup, QuoteBook};
use crate::config::{
    ApprovalConfig, DedupeConfig, QuoteRef, RouteConfig, RouteTarget, StalePolicy,
};
use crate::plugins::{Document, Message};
use crate::store::{NewException, PluginStamp, ProcessingOutcome, StaleGuard, StoredMessage};
use std::sync::Arc;
use waybill_sdk::Output;

/// A document ready for the outbound mapping, or held as an exception.
pub(super) struct Leg {
    /// The (possibly enriched) canonical document.
    pub doc: Output,
    /// Who approved it, for approval-gated targets.
    pub approved_by: Option<String>,
    /// Out-of-order guard.
    pub guard: Option<StaleGuard>,
    /// Duplicate-line fingerprints.
    pub fingerprints: Vec<String>,
    /// Set when the document must wait for a person.
    pub held: Option<NewException>,
}

impl Processor {
    /// Runs enrichment, ordering, dedupe and approval for one target.
    /// `None` means a dead letter was recorded in `out`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn prepare_leg(
        &self,
        msg: &StoredMessage,
        quotes: &QuoteBook,
        route: &RouteConfig,
        target: &RouteTarget,
        doc: &Output,
        pin: Option<&VersionPin>,
        out: &mut ProcessingOutcome,
    ) -> Option<Leg> {
        let mut plugins: Vec<PluginStamp> = Vec::new();
        let doc = match &target.enrich {
            Some(enrich) => self.enrich(msg, route, target, enrich, doc, pin, out, &mut plugins)?,
            None => doc.clone(),
        };
        // Only the ordering guard, the fingerprints and approval read the
        // document: a target with none of them skips the parse.
        let reads_document =
            target.ordering.is_some() || target.dedupe.is_some() || target.approval.is_some();
        let mut value: serde_json::Value = if reads_document {
            serde_json::from_str(&doc.body).unwrap_or_default()
        } else {
            serde_json::Value::Null
        };
        let guard = match &target.ordering {
            Some(ordering) => {
                let Some(at) = value
                    .pointer(&ordering.event_time)
                    .and_then(|v| v.as_str())
                    .and_then(parse_rfc3339_ms)
                else {
                    out.dead_letters.push(dead(Some(route), Some(&target.target), "invalid-event-time", serde_json::json!({
                        "message": format!("{} has no RFC 3339 time at {}", doc.schema_id, ordering.event_time),
                        "pointer": ordering.event_time,
                    }), None));
                    return None;
                };
                Some(StaleGuard {
                    event_at: at,
                    raise: ordering.on_stale == StalePolicy::Exception,
                })
            }
            None => None,
        };
        let fingerprints = target
            .dedupe
            .as_ref()
            .map(|d| fingerprints(d, &doc.business_key, &value))
            .unwrap_or_default();
        let mut leg = Leg {
            doc,
            approved_by: None,
            guard,
            fingerprints,
            held: None,
        };
        if let Some(approval) = &target.approval {
            let schema_id = leg.doc.schema_id.clone();
            let key = leg.doc.business_key.clone();
            let violations = self.approve(
                quotes,
                route,
                target,
                approval,
                &schema_id,
                &key,
                &mut value,
                pin,
                out,
                &mut plugins,
            )?;
            leg.doc.body = value.to_string();
            if violations.is_empty() {
                leg.approved_by = Some(approval.approved_by.clone());
            } else {
                let only_quote = violations
                    .iter()
                    .all(|v| v.get("code").and_then(|c| c.as_str()) == Some("missing-quote"));
                leg.held = Some(NewException {
                    reason: if only_quote {
                        "missing-quote"
                    } else {
                        "approval-violation"
                    }
                    .into(),
                    route: Some(route.name.clone()),
                    target: Some(target.target.clone()),
                    business_key: leg.doc.business_key.clone(),
                    schema_id: Some(leg.doc.schema_id.clone()),
                    document: Some(value),
                    violations: serde_json::Value::Array(violations),
                    plugins,
                    detail: serde_json::json!({"policy": approval.validator.plugin}),
                    dedupe_key: None,
                    fingerprints: std::mem::take(&mut leg.fingerprints),
                });
            }
        }
        Some(leg)
    }

    #[allow(clippy::too_many_arguments)]
    fn enrich(
        &self,
        msg: &StoredMessage,
        route: &RouteConfig,
        target: &RouteTarget,
        enrich: &crate::config::PluginRef,
        doc: &Output,
        pin: Option<&VersionPin>,
        out: &mut ProcessingOutcome,
        plugins: &mut Vec<PluginStamp>,
    ) -> Option<Output> {
        let Some(version) = self.plugin_for(&enrich.plugin, pin, &doc.business_key) else {
            out.dead_letters
                .push(missing_plugin(route, Some(&target.target), enrich, pin));
            return None;
        };
        plugins.push(stamp(&version));
        let input = Message {
            kind: doc.schema_id.clone(),
            content_type: "application/json".into(),
            body: doc.body.as_bytes().to_vec(),
            headers: Vec::new(),
            correlation_id: msg.correlation_id.clone(),
        };
        let stage = format!("enrich:{}", target.target);
        let mut outputs = call(
            &version,
            &input,
            enrich,
            route,
            Some(&target.target),
            &stage,
            self.tap(pin),
            out,
        )?;
        if outputs.len() != 1 {
            out.dead_letters.push(dead(Some(route), Some(&target.target), "invalid-output", serde_json::json!({
                "message": format!("enrichment {} must produce exactly one document, produced {}", version.label(), outputs.len())
            }), Some(stamp(&version))));
            return None;
        }
        let enriched = outputs.remove(0);
        let body: serde_json::Value = serde_json::from_str(&enriched.body).unwrap_or_default();
        if let Err(detail) = self.check_schema(&enriched, &body) {
            out.dead_letters.push(dead(
                Some(route),
                Some(&target.target),
                "schema-violation",
                detail,
                Some(stamp(&version)),
            ));
            return None;
        }
        Some(enriched)
    }

    /// Injects the quote and asks the validator; the violations as JSON.
    /// `None` when a dead letter was recorded, or when the quote is not in
    /// the book yet (the run is repeated once it was read).
    #[allow(clippy::too_many_arguments)]
    fn approve(
        &self,
        quotes: &QuoteBook,
        route: &RouteConfig,
        target: &RouteTarget,
        approval: &ApprovalConfig,
        schema_id: &str,
        key: &str,
        value: &mut serde_json::Value,
        pin: Option<&VersionPin>,
        out: &mut ProcessingOutcome,
        plugins: &mut Vec<PluginStamp>,
    ) -> Option<Vec<serde_json::Value>> {
        if let Some(quote) = &approval.quote
            && !inject_quote(quotes, quote, value)
        {
            return None;
        }
        let Some(version) = self.plugin_for(&approval.validator.plugin, pin, key) else {
            out.dead_letters.push(missing_plugin(
                route,
                Some(&target.target),
                &approval.validator,
                pin,
            ));
            return None;
        };
        plugins.push(stamp(&version));
        let document = Document {
            schema_id: schema_id.to_string(),
            body: value.to_string(),
        };
        let config = Arc::new(approval.validator.config.clone());
        match version.call_validate(&document, &config).result {
            Ok(violations) => Some(
                violations
                    .iter()
                    .map(|v| serde_json::json!({"path": v.path, "code": v.code, "message": v.message}))
                    .collect(),
            ),
            Err(failure) => {
                out.dead_letters
                    .push(failed(route, Some(&target.target), &failure, &version));
                None
            }
        }
    }
}

/// Copies the quoted figures from the book into the document, unless it
/// already carries them; `false` when the book does not know them yet.
fn inject_quote(quotes: &QuoteBook, quote: &QuoteRef, value: &mut serde_json::Value) -> bool {
    if value.pointer(&quote.into).is_some() {
        return true;
    }
    let Some(key) = value
        .pointer(&quote.key)
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return true;
    };
    match quotes.lookup(quote, &key) {
        Lookup::Found(figures) => set_pointer(value, &quote.into, figures),
        Lookup::Absent => {}
        Lookup::Wanted => return false,
    }
    true
}

/// Sets `value` at a JSON pointer whose parent exists (one level deep is
/// all approval needs: `/reference_charges`).
fn set_pointer(doc: &mut serde_json::Value, pointer: &str, value: serde_json::Value) {
    let (parent, last) = match pointer.rfind('/') {
        Some(i) => (&pointer[..i], &pointer[i + 1..]),
        None => return,
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    if let Some(serde_json::Value::Object(map)) = doc.pointer_mut(parent) {
        map.insert(last, value);
    }
}

/// One fingerprint per line: business key plus the listed fields.
fn fingerprints(d: &DedupeConfig, key: &str, doc: &serde_json::Value) -> Vec<String> {
    let Some(items) = doc.pointer(&d.items).and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let mut fp = key.to_string();
            for field in &d.fields {
                let v = item.pointer(field).cloned().unwrap_or_default();
                fp.push_str(&format!(
                    "|{}={}",
                    field.trim_start_matches('/'),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                ));
            }
            fp
        })
        .collect()
}

/// RFC 3339 -> milliseconds since the epoch.
pub(crate) fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_name_key_and_fields() {
        let d = DedupeConfig {
            items: "/charges".into(),
            fields: vec!["/code".into(), "/amount_minor".into()],
        };
        let doc = serde_json::json!({"charges": [
            {"code": "LINEHAUL", "amount_minor": 61240},
            {"code": "DETENTION", "amount_minor": 9000}
        ]});
        assert_eq!(
            fingerprints(&d, "SO-1", &doc),
            vec![
                "SO-1|code=LINEHAUL|amount_minor=61240".to_string(),
                "SO-1|code=DETENTION|amount_minor=9000".to_string()
            ]
        );
        assert!(fingerprints(&d, "SO-1", &serde_json::json!({})).is_empty());
    }

    #[test]
    fn set_pointer_adds_a_top_level_member() {
        let mut doc = serde_json::json!({"a": 1});
        set_pointer(&mut doc, "/reference_charges", serde_json::json!([1]));
        assert_eq!(doc, serde_json::json!({"a": 1, "reference_charges": [1]}));
    }

    #[test]
    fn rfc3339_with_offsets_compares_as_instants() {
        let a = parse_rfc3339_ms("2026-05-28T14:03:00-05:00").expect("valid");
        let b = parse_rfc3339_ms("2026-05-28T19:03:00Z").expect("valid");
        assert_eq!(a, b);
        assert!(parse_rfc3339_ms("yesterday").is_none());
    }
}
