//! The compatibility checker: within a major, every document valid under an
//! older minor must stay valid under the newer one. [`check_compatible`]
//! walks both schemas side by side (properties, items, `$defs`, local
//! `$ref`s, combinators) and reports each change that could reject a
//! previously valid document. When a change cannot be proved safe (a
//! rewritten `anyOf`/`oneOf`, a new `not`, ...) it is reported as
//! [`kind::UNVERIFIABLE`] rather than passed silently.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::LazyLock;

pub(super) static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// How deep [`Checker::compare`] recurses. Without `$ref`s a schema nests
/// at most serde_json's 128 levels (two per subschema); two `$ref` cycles of
/// different lengths are walked pair by pair and could overflow the stack.
const MAX_DEPTH: usize = 128;

/// The kinds of breaking change.
pub mod kind {
    /// A property became required.
    pub const REQUIRED_ADDED: &str = "required-added";
    /// A property the older schema allowed is rejected now.
    pub const PROPERTY_REMOVED: &str = "property-removed";
    /// An enum lost values (or an enum was added).
    pub const ENUM_NARROWED: &str = "enum-narrowed";
    /// A `const` was added or changed.
    pub const CONST_CHANGED: &str = "const-changed";
    /// Fewer JSON types are accepted (or the schema became `false`).
    pub const TYPE_NARROWED: &str = "type-narrowed";
    /// A minimum/maximum, length, count, `multipleOf` or `uniqueItems` got stricter.
    pub const BOUND_TIGHTENED: &str = "bound-tightened";
    /// A `pattern` was added or changed.
    pub const PATTERN_CHANGED: &str = "pattern-changed";
    /// A `format` was added or changed.
    pub const FORMAT_ADDED: &str = "format-added";
    /// `additionalProperties` went from open to `false` or a schema.
    pub const ADDITIONAL_PROPERTIES_CLOSED: &str = "additional-properties-closed";
    /// `items` (or `prefixItems`) now constrains array items more.
    pub const ITEMS_NARROWED: &str = "items-narrowed";
    /// A change the checker cannot prove compatible.
    pub const UNVERIFIABLE: &str = "unverifiable";
}

/// One change that can make a previously valid document invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakingChange {
    /// JSON pointer into the newer schema (into the older one for removals).
    pub pointer: String,
    /// One of the [`kind`] constants.
    pub kind: &'static str,
    /// A readable explanation.
    pub message: String,
}

/// Keywords that never affect validation.
pub(super) fn is_annotation(key: &str) -> bool {
    matches!(
        key,
        "title"
            | "description"
            | "$comment"
            | "examples"
            | "default"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
            | "$schema"
            | "$id"
            | "$anchor"
            | "$dynamicAnchor"
            | "$vocabulary"
            | "contentMediaType"
            | "contentEncoding"
    ) || key.starts_with("x-")
}

/// Whether `v` accepts every value (`true`, `{}`, or annotations only).
pub(super) fn is_trivial(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Object(m) => m
            .keys()
            .all(|k| is_annotation(k) || k == "$defs" || k == "definitions"),
        _ => false,
    }
}

/// Escapes one JSON pointer segment.
pub(super) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A schema node and where it sits.
pub(super) struct Node<'a> {
    pub v: &'a Value,
    pub ptr: String,
}

/// Which document a pointer belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Old,
    New,
}

pub(super) struct Checker<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    seen: HashSet<(String, String)>,
    /// Nesting of [`Checker::compare`] calls, bounded by [`MAX_DEPTH`].
    depth: usize,
    pub(super) out: Vec<BreakingChange>,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl<'a> Checker<'a> {
    fn new(old_root: &'a Value, new_root: &'a Value) -> Self {
        Self {
            old_root,
            new_root,
            seen: HashSet::new(),
            depth: 0,
            out: Vec::new(),
        }
    }

    pub(super) fn report(&mut self, pointer: String, kind: &'static str, message: String) {
        self.out.push(BreakingChange {
            pointer,
            kind,
            message,
        });
    }

    fn root(&self, side: Side) -> &'a Value {
        match side {
            Side::Old => self.old_root,
            Side::New => self.new_root,
        }
    }

    /// The pointer (within the same file) a `$ref` names, if it is local.
    pub(super) fn local_ref(&self, side: Side, reference: &str) -> Option<String> {
        let fragment = match reference.split_once('#') {
            Some(("", f)) => f,
            Some((base, f)) => {
                let own = self.root(side).get("$id").and_then(Value::as_str)?;
                if own.trim_end_matches('#') != base {
                    return None;
                }
                f
            }
            None => return None,
        };
        if !fragment.is_empty() && !fragment.starts_with('/') {
            return None; // an anchor: handled as an opaque reference
        }
        Some(percent_decode(fragment))
    }

    /// Resolves a local pointer to its node.
    pub(super) fn resolve(&self, side: Side, pointer: &str) -> Option<&'a Value> {
        self.root(side).pointer(pointer)
    }

    /// Follows pure local `$ref`s (a `$ref` with only annotations beside it).
    fn deref(
        &self,
        side: Side,
        node: &Node<'a>,
        ptr_store: &mut String,
    ) -> Result<&'a Value, String> {
        let mut v = node.v;
        for _ in 0..32 {
            let Some(obj) = v.as_object() else {
                return Ok(v);
            };
            let Some(reference) = obj.get("$ref").and_then(Value::as_str) else {
                return Ok(v);
            };
            let pure = obj
                .keys()
                .all(|k| k == "$ref" || is_annotation(k) || k == "$defs" || k == "definitions");
            if !pure {
                return Ok(v);
            }
            let Some(target_ptr) = self.local_ref(side, reference) else {
                return Ok(v);
            };
            let Some(target) = self.resolve(side, &target_ptr) else {
                return Err(format!(
                    "$ref {reference:?} does not resolve within the file"
                ));
            };
            *ptr_store = target_ptr;
            v = target;
        }
        Err("$ref chain too long or cyclic".into())
    }

    /// Compares one older node with one newer node.
    pub(super) fn compare(&mut self, old: Node<'a>, new: Node<'a>) {
        if self.depth >= MAX_DEPTH {
            return self.report(
                new.ptr,
                kind::UNVERIFIABLE,
                format!(
                    "schemas nested more than {MAX_DEPTH} levels (through $refs) are not followed"
                ),
            );
        }
        self.depth += 1;
        self.compare_nodes(old, new);
        self.depth -= 1;
    }

    fn compare_nodes(&mut self, old: Node<'a>, new: Node<'a>) {
        let mut old_ptr = old.ptr.clone();
        let mut new_ptr = new.ptr.clone();
        let old_v = match self.deref(Side::Old, &old, &mut old_ptr) {
            Ok(v) => v,
            Err(msg) => return self.report(old_ptr, kind::UNVERIFIABLE, format!("older: {msg}")),
        };
        let new_v = match self.deref(Side::New, &new, &mut new_ptr) {
            Ok(v) => v,
            Err(msg) => return self.report(new_ptr, kind::UNVERIFIABLE, format!("newer: {msg}")),
        };
        if !self.seen.insert((old_ptr.clone(), new_ptr.clone())) {
            return;
        }
        if is_trivial(new_v) || old_v == &Value::Bool(false) {
            return self.compare_defs(old_v, &old_ptr, new_v, &new_ptr);
        }
        if new_v == &Value::Bool(false) {
            return self.report(
                new_ptr,
                kind::TYPE_NARROWED,
                "the newer schema is `false`: it rejects every value".into(),
            );
        }
        let old_obj = old_v.as_object().unwrap_or(&EMPTY);
        let Some(new_obj) = new_v.as_object() else {
            return self.report(new_ptr, kind::UNVERIFIABLE, "not a schema object".into());
        };
        let o = Obj {
            v: old_v,
            m: old_obj,
            ptr: &old_ptr,
        };
        let n = Obj {
            v: new_v,
            m: new_obj,
            ptr: &new_ptr,
        };
        self.compare_keywords(o, n);
        self.compare_defs(old_v, &old_ptr, new_v, &new_ptr);
    }

    /// Compares `$defs`/`definitions` entries present in both.
    fn compare_defs(&mut self, old_v: &'a Value, old_ptr: &str, new_v: &'a Value, new_ptr: &str) {
        for key in ["$defs", "definitions"] {
            let (Some(od), Some(nd)) = (
                old_v.get(key).and_then(Value::as_object),
                new_v.get(key).and_then(Value::as_object),
            ) else {
                continue;
            };
            for (name, o) in od {
                if let Some(n) = nd.get(name) {
                    let op = format!("{old_ptr}/{key}/{}", escape(name));
                    let np = format!("{new_ptr}/{key}/{}", escape(name));
                    self.compare(Node { v: o, ptr: op }, Node { v: n, ptr: np });
                }
            }
        }
    }
}

/// A schema object and its pointer.
#[derive(Clone, Copy)]
pub(super) struct Obj<'a, 'p> {
    pub v: &'a Value,
    pub m: &'a Map<String, Value>,
    pub ptr: &'p str,
}

impl<'a> Obj<'a, '_> {
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.m.get(key)
    }

    pub(super) fn at(&self, key: &str) -> String {
        format!("{}/{}", self.ptr, escape(key))
    }
}

/// Every change from `older` to `newer` that can reject a document `older`
/// accepted. Empty when the newer schema is backward compatible.
pub fn check_compatible(older: &Value, newer: &Value) -> Vec<BreakingChange> {
    let mut checker = Checker::new(older, newer);
    checker.compare_defs(older, "", newer, "");
    checker.compare(
        Node {
            v: older,
            ptr: String::new(),
        },
        Node {
            v: newer,
            ptr: String::new(),
        },
    );
    let mut seen = HashSet::new();
    checker
        .out
        .into_iter()
        .filter(|c| seen.insert((c.pointer.clone(), c.kind, c.message.clone())))
        .collect()
}
