//! The keyword rules of the compatibility checker: each compares one keyword
//! family of an older schema object with the newer one and reports what
//! could reject a previously valid document.

use super::compat::{Checker, Node, Obj, Side, is_annotation, kind};
use serde_json::Value;

/// Keywords the checker understands; any other non-annotation keyword that
/// is added or changed is reported as unverifiable.
const HANDLED: &[&str] = &[
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "uniqueItems",
    "pattern",
    "format",
    "required",
    "properties",
    "additionalProperties",
    "patternProperties",
    "propertyNames",
    "items",
    "prefixItems",
    "allOf",
    "anyOf",
    "oneOf",
    "$ref",
    "$defs",
    "definitions",
];

const COUNT_MIN: &[&str] = &["minLength", "minItems", "minProperties"];
const COUNT_MAX: &[&str] = &["maxLength", "maxItems", "maxProperties"];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                "integer"
            } else {
                "number"
            }
        }
    }
}

fn types(v: Option<&Value>) -> Option<Vec<&str>> {
    match v? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(a) => Some(a.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

fn accepts(set: &[&str], t: &str) -> bool {
    set.contains(&t) || (t == "integer" && set.contains(&"number"))
}

fn show(v: &Value) -> String {
    v.to_string()
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

impl<'a> Checker<'a> {
    pub(super) fn compare_keywords(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        self.compare_type(o, n);
        self.compare_values(o, n);
        self.compare_numeric(o, n);
        self.compare_counts(o, n);
        self.compare_strings(o, n);
        self.compare_objects(o, n);
        self.compare_arrays(o, n);
        self.compare_combinators(o, n);
        self.compare_refs(o, n);
        self.compare_unhandled(o, n);
    }

    /// The values an older enum or const allows, if it restricts to a list;
    /// values the older `type` rejects were never valid and are left out.
    fn old_values(o: Obj<'a, '_>) -> Option<Vec<&'a Value>> {
        let listed = match o.get("const") {
            Some(c) => vec![c],
            None => o.get("enum").and_then(Value::as_array)?.iter().collect(),
        };
        let old_types = types(o.get("type"));
        Some(
            listed
                .into_iter()
                .filter(|v| old_types.as_ref().is_none_or(|t| accepts(t, json_type(v))))
                .collect(),
        )
    }

    fn compare_type(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        let Some(new_types) = types(n.get("type")) else {
            return;
        };
        if let Some(values) = Self::old_values(o) {
            let bad: Vec<String> = values
                .iter()
                .filter(|v| !accepts(&new_types, json_type(v)))
                .map(|v| show(v))
                .collect();
            if !bad.is_empty() {
                self.report(
                    n.at("type"),
                    kind::TYPE_NARROWED,
                    format!(
                        "type {new_types:?} rejects formerly allowed values {}",
                        bad.join(", ")
                    ),
                );
            }
            return;
        }
        match types(o.get("type")) {
            None => self.report(
                n.at("type"),
                kind::TYPE_NARROWED,
                format!("type {new_types:?} added where any type was accepted"),
            ),
            Some(old_types) => {
                let lost: Vec<&str> = old_types
                    .iter()
                    .copied()
                    .filter(|t| !accepts(&new_types, t))
                    .collect();
                if !lost.is_empty() {
                    self.report(
                        n.at("type"),
                        kind::TYPE_NARROWED,
                        format!("type narrowed from {old_types:?} to {new_types:?}: {lost:?} no longer accepted"),
                    );
                }
            }
        }
    }

    fn compare_values(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        let old_values = Self::old_values(o);
        if let Some(new_enum) = n.get("enum").and_then(Value::as_array) {
            match &old_values {
                None => self.report(
                    n.at("enum"),
                    kind::ENUM_NARROWED,
                    format!(
                        "enum {} added where any value was accepted",
                        show(&Value::Array(new_enum.clone()))
                    ),
                ),
                Some(values) => {
                    let removed: Vec<String> = values
                        .iter()
                        .filter(|v| !new_enum.contains(v))
                        .map(|v| show(v))
                        .collect();
                    if !removed.is_empty() {
                        self.report(
                            n.at("enum"),
                            kind::ENUM_NARROWED,
                            format!("enum values removed: {}", removed.join(", ")),
                        );
                    }
                }
            }
        }
        if let Some(c) = n.get("const") {
            let ok = old_values
                .as_ref()
                .is_some_and(|vs| vs.iter().all(|v| *v == c));
            if !ok {
                let was = match o.get("const") {
                    Some(old) => format!("changed from {} to {}", show(old), show(c)),
                    None => format!("{} added", show(c)),
                };
                self.report(n.at("const"), kind::CONST_CHANGED, format!("const {was}"));
            }
        }
    }

    fn compare_numeric(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        let (o_min, o_xmin) = (num(o.get("minimum")), num(o.get("exclusiveMinimum")));
        let (o_max, o_xmax) = (num(o.get("maximum")), num(o.get("exclusiveMaximum")));
        // Every older value x satisfies x >= m (or x > m for exclusive)?
        if let Some(m) = num(n.get("minimum")) {
            let ok = o_min.is_some_and(|v| v >= m) || o_xmin.is_some_and(|v| v >= m);
            if !ok {
                self.bound(n, "minimum", o.get("minimum"), m);
            }
        }
        if let Some(m) = num(n.get("exclusiveMinimum")) {
            let ok = o_min.is_some_and(|v| v > m) || o_xmin.is_some_and(|v| v >= m);
            if !ok {
                self.bound(n, "exclusiveMinimum", o.get("exclusiveMinimum"), m);
            }
        }
        if let Some(m) = num(n.get("maximum")) {
            let ok = o_max.is_some_and(|v| v <= m) || o_xmax.is_some_and(|v| v <= m);
            if !ok {
                self.bound(n, "maximum", o.get("maximum"), m);
            }
        }
        if let Some(m) = num(n.get("exclusiveMaximum")) {
            let ok = o_max.is_some_and(|v| v < m) || o_xmax.is_some_and(|v| v <= m);
            if !ok {
                self.bound(n, "exclusiveMaximum", o.get("exclusiveMaximum"), m);
            }
        }
        if let Some(m) = num(n.get("multipleOf")) {
            let ok = num(o.get("multipleOf")).is_some_and(|old| {
                let q = old / m;
                m != 0.0 && (q - q.round()).abs() < 1e-9
            });
            if !ok {
                self.bound(n, "multipleOf", o.get("multipleOf"), m);
            }
        }
    }

    fn bound(&mut self, n: Obj<'a, '_>, key: &str, old: Option<&Value>, new: f64) {
        let message = match old {
            Some(old) => format!("{key} tightened from {} to {new}", show(old)),
            None => format!("{key} {new} added"),
        };
        self.report(n.at(key), kind::BOUND_TIGHTENED, message);
    }

    fn compare_counts(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        for key in COUNT_MIN {
            if let Some(m) = num(n.get(key))
                && m > num(o.get(key)).unwrap_or(0.0)
            {
                self.bound(n, key, o.get(key), m);
            }
        }
        for key in COUNT_MAX {
            if let Some(m) = num(n.get(key))
                && num(o.get(key)).is_none_or(|old| m < old)
            {
                self.bound(n, key, o.get(key), m);
            }
        }
        if n.get("uniqueItems") == Some(&Value::Bool(true))
            && o.get("uniqueItems") != Some(&Value::Bool(true))
        {
            self.report(
                n.at("uniqueItems"),
                kind::BOUND_TIGHTENED,
                "uniqueItems added".into(),
            );
        }
    }

    fn compare_strings(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        if let Some(p) = n.get("pattern")
            && o.get("pattern") != Some(p)
        {
            let message = match o.get("pattern") {
                Some(old) => format!("pattern changed from {} to {}", show(old), show(p)),
                None => format!("pattern {} added", show(p)),
            };
            self.report(n.at("pattern"), kind::PATTERN_CHANGED, message);
        }
        if let Some(f) = n.get("format")
            && o.get("format") != Some(f)
        {
            let message = match o.get("format") {
                Some(old) => format!("format changed from {} to {}", show(old), show(f)),
                None => format!("format {} added", show(f)),
            };
            self.report(n.at("format"), kind::FORMAT_ADDED, message);
        }
    }

    fn compare_unhandled(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        for (key, value) in n.m {
            if is_annotation(key) || HANDLED.contains(&key.as_str()) {
                continue;
            }
            if o.get(key) != Some(value) {
                let what = if o.get(key).is_some() {
                    "changed"
                } else {
                    "added"
                };
                self.report(
                    n.at(key),
                    kind::UNVERIFIABLE,
                    format!("{key} {what}: the checker cannot prove this compatible; review it or make a new major"),
                );
            }
        }
    }

    /// Compares two subschemas found under `key`.
    pub(super) fn sub(&mut self, ov: &'a Value, op: String, nv: &'a Value, np: String) {
        self.compare(Node { v: ov, ptr: op }, Node { v: nv, ptr: np });
    }

    fn compare_refs(&mut self, o: Obj<'a, '_>, n: Obj<'a, '_>) {
        let Some(new_ref) = n.get("$ref").and_then(Value::as_str) else {
            return;
        };
        let old_ref = o.get("$ref").and_then(Value::as_str);
        if let Some(target) = self.local_ref(Side::New, new_ref) {
            let Some(nt) = self.resolve(Side::New, &target) else {
                return self.report(
                    n.at("$ref"),
                    kind::UNVERIFIABLE,
                    format!("$ref {new_ref:?} does not resolve within the file"),
                );
            };
            let old_target = old_ref
                .and_then(|r| self.local_ref(Side::Old, r))
                .and_then(|p| self.resolve(Side::Old, &p).map(|v| (v, p)));
            match old_target {
                Some((ot, op)) => self.sub(ot, op, nt, target),
                None => self.sub(o.v, o.ptr.to_string(), nt, target),
            }
            return;
        }
        match old_ref {
            Some(old_ref) if old_ref == new_ref || remote_compatible(old_ref, new_ref) => {}
            _ => self.report(
                n.at("$ref"),
                kind::UNVERIFIABLE,
                format!(
                    "$ref {} -> {new_ref:?}: an external reference that is not a later minor of the same schema",
                    old_ref.map_or("added".to_string(), |r| format!("{r:?}"))
                ),
            ),
        }
    }
}

/// Whether two external refs name the same fragment of `<entity>/<M>.<m>.json`
/// with the newer one at a later (or the same) minor of the same major.
fn remote_compatible(old: &str, new: &str) -> bool {
    fn parts(r: &str) -> Option<(&str, &str, u32, u32, &str)> {
        let (path, fragment) = r.split_once('#').unwrap_or((r, ""));
        let (dir, file) = path.rsplit_once('/')?;
        let (prefix, entity) = dir.rsplit_once('/').unwrap_or(("", dir));
        let (major, minor) = file.strip_suffix(".json")?.split_once('.')?;
        Some((
            prefix,
            entity,
            major.parse().ok()?,
            minor.parse().ok()?,
            fragment,
        ))
    }
    match (parts(old), parts(new)) {
        (Some(o), Some(n)) => o.0 == n.0 && o.1 == n.1 && o.2 == n.2 && n.3 >= o.3 && o.4 == n.4,
        _ => false,
    }
}
