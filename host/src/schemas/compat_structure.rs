//! The structural rules of the compatibility checker: object properties,
//! array items and the combinators (`allOf`, `anyOf`, `oneOf`), recursing
//! into subschemas.

use super::compat::{Checker, EMPTY, Obj, escape, is_trivial, kind};
use serde_json::{Map, Value};

/// `additionalProperties` (or `items`) in its three shapes.
enum Open<'a> {
    /// Absent, `true` or `{}`: anything.
    Any,
    /// `false`: nothing.
    Closed,
    /// A schema.
    Schema(&'a Value),
}

static ANY: Value = Value::Bool(true);
static NO_ITEMS: Vec<Value> = Vec::new();

fn openness(v: Option<&Value>) -> Open<'_> {
    match v {
        None => Open::Any,
        Some(v) if is_trivial(v) => Open::Any,
        Some(Value::Bool(false)) => Open::Closed,
        Some(v) => Open::Schema(v),
    }
}

fn map<'a>(o: Obj<'a, '_>, key: &str) -> Option<&'a Map<String, Value>> {
    o.get(key).and_then(Value::as_object)
}

fn list<'a>(o: Obj<'a, '_>, key: &str) -> Option<&'a Vec<Value>> {
    o.get(key).and_then(Value::as_array)
}

impl<'a> Checker<'a> {
    pub(super) fn compare_objects(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        let old_required: Vec<&str> = list(o, "required")
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (i, r) in list(n, "required").into_iter().flatten().enumerate() {
            let Some(name) = r.as_str() else { continue };
            if !old_required.contains(&name) {
                self.report(
                    format!("{}/required/{i}", n.ptr),
                    kind::REQUIRED_ADDED,
                    format!("property {name:?} is newly required"),
                );
            }
        }
        let old_props = map(o, "properties").unwrap_or(&EMPTY);
        let new_props = map(n, "properties");
        let new_ap = openness(n.get("additionalProperties"));
        let new_patterns = map(n, "patternProperties").is_some_and(|m| !m.is_empty());
        for (name, old_sub) in old_props {
            let op = format!("{}/properties/{}", o.ptr, escape(name));
            if let Some(new_sub) = new_props.and_then(|p| p.get(name)) {
                let np = format!("{}/properties/{}", n.ptr, escape(name));
                self.sub(old_sub, op, new_sub, np);
            } else if new_patterns {
                self.report(
                    op,
                    kind::UNVERIFIABLE,
                    format!("property {name:?} is no longer listed; whether the newer patternProperties accept it is not checked"),
                );
            } else {
                match new_ap {
                    Open::Any => {}
                    Open::Closed => self.report(
                        op,
                        kind::PROPERTY_REMOVED,
                        format!("property {name:?} was removed and additionalProperties is false: documents carrying it are rejected"),
                    ),
                    Open::Schema(s) => self.sub(old_sub, op, s, n.at("additionalProperties")),
                }
            }
        }
        if let (Some(new_props), Open::Schema(old_ap)) =
            (new_props, openness(o.get("additionalProperties")))
        {
            for (name, new_sub) in new_props {
                if !old_props.contains_key(name) {
                    let np = format!("{}/properties/{}", n.ptr, escape(name));
                    self.sub(old_ap, o.at("additionalProperties"), new_sub, np);
                }
            }
        }
        self.compare_additional(o, n, new_ap);
        self.compare_pattern_properties(o, n);
        if let Some(new_names) = n.get("propertyNames") {
            let old_names = o.get("propertyNames").unwrap_or(&ANY);
            self.sub(
                old_names,
                o.at("propertyNames"),
                new_names,
                n.at("propertyNames"),
            );
        }
    }

    fn compare_additional(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>, new_ap: Open<'a>) {
        let at = n.at("additionalProperties");
        match (openness(o.get("additionalProperties")), new_ap) {
            (_, Open::Any) | (Open::Closed, _) => {}
            (Open::Any, Open::Closed) => self.report(
                at,
                kind::ADDITIONAL_PROPERTIES_CLOSED,
                "additionalProperties closed (false): properties not listed are now rejected".into(),
            ),
            (Open::Any, Open::Schema(_)) => self.report(
                at,
                kind::ADDITIONAL_PROPERTIES_CLOSED,
                "additionalProperties now constrained by a schema: unlisted properties were unconstrained".into(),
            ),
            (Open::Schema(_), Open::Closed) => self.report(
                at,
                kind::ADDITIONAL_PROPERTIES_CLOSED,
                "additionalProperties closed (false): unlisted properties were allowed by a schema".into(),
            ),
            (Open::Schema(os), Open::Schema(ns)) => {
                self.sub(os, o.at("additionalProperties"), ns, at)
            }
        }
    }

    fn compare_pattern_properties(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        let Some(new_pp) = map(n, "patternProperties") else {
            return;
        };
        let old_pp = map(o, "patternProperties");
        for (pattern, new_sub) in new_pp {
            let np = format!("{}/patternProperties/{}", n.ptr, escape(pattern));
            match old_pp.and_then(|m| m.get(pattern)) {
                Some(old_sub) => {
                    let op = format!("{}/patternProperties/{}", o.ptr, escape(pattern));
                    self.sub(old_sub, op, new_sub, np);
                }
                None if is_trivial(new_sub) => {}
                None => self.report(
                    np,
                    kind::UNVERIFIABLE,
                    format!("patternProperties {pattern:?} added: it may constrain properties the older schema left open"),
                ),
            }
        }
    }

    pub(super) fn compare_arrays(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        let (oi, ni) = (o.get("items"), n.get("items"));
        if oi.is_some_and(Value::is_array) || ni.is_some_and(Value::is_array) {
            if oi != ni {
                self.report(
                    n.at("items"),
                    kind::UNVERIFIABLE,
                    "tuple-form items changed; use prefixItems (draft 2020-12)".into(),
                );
            }
            return;
        }
        let op = list(o, "prefixItems").unwrap_or(&NO_ITEMS);
        let np = list(n, "prefixItems").unwrap_or(&NO_ITEMS);
        // Positions both tuples describe, then positions one side left to `items`.
        for i in 0..op.len().max(np.len()) {
            let (ov, opp) = match op.get(i) {
                Some(v) => (v, format!("{}/prefixItems/{i}", o.ptr)),
                None => (oi.unwrap_or(&ANY), o.at("items")),
            };
            let (nv, npp) = match np.get(i) {
                Some(v) => (v, format!("{}/prefixItems/{i}", n.ptr)),
                None => (ni.unwrap_or(&ANY), n.at("items")),
            };
            if np.get(i).is_some() && op.get(i).is_none() && oi.is_none() && !is_trivial(nv) {
                self.report(
                    npp,
                    kind::ITEMS_NARROWED,
                    format!("prefixItems position {i} now constrained; it was unconstrained"),
                );
                continue;
            }
            self.compare_items_node(ov, opp, nv, npp);
        }
        match (openness(oi), openness(ni)) {
            (_, Open::Any) | (Open::Closed, _) => {}
            (Open::Any, _) => self.report(
                n.at("items"),
                kind::ITEMS_NARROWED,
                "items now constrained; array items were unconstrained".into(),
            ),
            (Open::Schema(_), Open::Closed) => self.report(
                n.at("items"),
                kind::ITEMS_NARROWED,
                "items is false: items beyond prefixItems are now rejected".into(),
            ),
            (Open::Schema(os), Open::Schema(ns)) => self.sub(os, o.at("items"), ns, n.at("items")),
        }
    }

    fn compare_items_node(&mut self, ov: &'a Value, op: String, nv: &'a Value, np: String) {
        if nv == &Value::Bool(false) && ov != &Value::Bool(false) {
            self.report(np, kind::ITEMS_NARROWED, "items now rejected".into());
        } else {
            self.sub(ov, op, nv, np);
        }
    }

    pub(super) fn compare_combinators(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        if let Some(new_all) = list(n, "allOf") {
            match list(o, "allOf") {
                Some(old_all) if old_all.len() == new_all.len() => {
                    for (i, (ov, nv)) in old_all.iter().zip(new_all).enumerate() {
                        let (op, np) = (
                            format!("{}/allOf/{i}", o.ptr),
                            format!("{}/allOf/{i}", n.ptr),
                        );
                        self.sub(ov, op, nv, np);
                    }
                }
                // Every older document must satisfy each newer branch.
                _ => {
                    for (i, nv) in new_all.iter().enumerate() {
                        self.sub(o.v, o.ptr.to_string(), nv, format!("{}/allOf/{i}", n.ptr));
                    }
                }
            }
        }
        if let Some(new_any) = list(n, "anyOf") {
            match list(o, "anyOf") {
                Some(old_any) if old_any.len() <= new_any.len() => {
                    for (i, (ov, nv)) in old_any.iter().zip(new_any).enumerate() {
                        let (op, np) = (
                            format!("{}/anyOf/{i}", o.ptr),
                            format!("{}/anyOf/{i}", n.ptr),
                        );
                        self.sub(ov, op, nv, np);
                    }
                }
                Some(_) => self.report(
                    n.at("anyOf"),
                    kind::UNVERIFIABLE,
                    "anyOf lost branches: documents matching only a removed branch may be rejected"
                        .into(),
                ),
                None => self.report(
                    n.at("anyOf"),
                    kind::UNVERIFIABLE,
                    "anyOf added: cannot prove every older document matches a branch".into(),
                ),
            }
        }
        if let Some(new_one) = list(n, "oneOf") {
            match list(o, "oneOf") {
                Some(old_one) if old_one == new_one => {
                    for (i, (ov, nv)) in old_one.iter().zip(new_one).enumerate() {
                        let (op, np) = (format!("{}/oneOf/{i}", o.ptr), format!("{}/oneOf/{i}", n.ptr));
                        self.sub(ov, op, nv, np);
                    }
                }
                old => self.report(
                    n.at("oneOf"),
                    kind::UNVERIFIABLE,
                    format!(
                        "oneOf {}: cannot prove every older document still matches exactly one branch",
                        if old.is_some() { "rewritten" } else { "added" }
                    ),
                ),
            }
        }
    }
}
