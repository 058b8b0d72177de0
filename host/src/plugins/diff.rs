//! A JSON-structural diff: where two documents differ, as RFC 6901 JSON
//! pointers, so that a shadow run or a recorded replay can count "what
//! changed" by place rather than by text. Objects are compared member by
//! member, arrays element by element (the extra elements of the longer one
//! are additions or removals), anything else by value; a member whose type
//! changed is one difference at its pointer, not one per leaf below it.
//!
//! The operator lists what to ignore: an entry starting with `/` is a
//! pointer (that place and everything below it is skipped), any other
//! entry is a member name skipped at every depth (`generated_at`).

use serde::Serialize;
use serde_json::Value;

/// What differs at one pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Both have a value of the same type, and the values differ.
    Changed,
    /// Both have a value, of different JSON types.
    TypeChanged,
    /// Only the candidate (right) side has it.
    Added,
    /// Only the active (left) side has it.
    Removed,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// RFC 6901 pointer of the place (`""` is the whole document).
    pub pointer: String,
    /// How it differs.
    pub change: Change,
}

/// What a diff skips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    pointers: Vec<String>,
    names: Vec<String>,
}

/// An ignore entry that is neither a pointer nor a member name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ignore entry {entry:?}: {why}")]
pub struct IgnoreError {
    /// The entry as given.
    pub entry: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl Ignore {
    /// Parses the operator's list: `/a/b` pointers and bare member names.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, IgnoreError> {
        let mut ignore = Self::default();
        for entry in entries {
            let entry = entry.as_ref();
            if entry.is_empty() {
                return Err(IgnoreError {
                    entry: entry.into(),
                    why: "must not be empty",
                });
            }
            if entry.starts_with('/') {
                check_pointer(entry).map_err(|why| IgnoreError {
                    entry: entry.into(),
                    why,
                })?;
                ignore.pointers.push(entry.to_string());
            } else {
                ignore.names.push(entry.to_string());
            }
        }
        Ok(ignore)
    }

    /// Whether the place at `pointer`, reached through member `name`, is
    /// skipped. A pointer entry skips its own place and everything below.
    fn skips(&self, pointer: &str, name: Option<&str>) -> bool {
        name.is_some_and(|n| self.names.iter().any(|i| i == n))
            || self.pointers.iter().any(|p| {
                pointer == p
                    || pointer
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

/// `~` must be followed by `0` or `1` (RFC 6901 section 3).
fn check_pointer(pointer: &str) -> Result<(), &'static str> {
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err("a '~' in a JSON pointer must be followed by 0 or 1");
        }
    }
    Ok(())
}

/// `token` escaped for a JSON pointer (`~` -> `~0`, `/` -> `~1`).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Every difference between `active` and `candidate`, in document order.
pub fn diff(active: &Value, candidate: &Value, ignore: &Ignore) -> Vec<Difference> {
    let mut out = Vec::new();
    walk(
        active,
        candidate,
        &mut String::new(),
        None,
        ignore,
        &mut out,
    );
    out
}

fn walk(
    a: &Value,
    b: &Value,
    pointer: &mut String,
    name: Option<&str>,
    ignore: &Ignore,
    out: &mut Vec<Difference>,
) {
    if ignore.skips(pointer, name) {
        return;
    }
    let mut at = |change| {
        out.push(Difference {
            pointer: pointer.clone(),
            change,
        })
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(key));
                match (x.get(key), y.get(key)) {
                    (Some(l), Some(r)) => walk(l, r, pointer, Some(key), ignore, out),
                    (l, _) => one_side(l.is_some(), pointer, Some(key), ignore, out),
                }
                pointer.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                match (x.get(i), y.get(i)) {
                    (Some(l), Some(r)) => walk(l, r, pointer, None, ignore, out),
                    (l, _) => one_side(l.is_some(), pointer, None, ignore, out),
                }
                pointer.truncate(len);
            }
        }
        (x, y) if std::mem::discriminant(x) != std::mem::discriminant(y) => at(Change::TypeChanged),
        (x, y) if x != y => at(Change::Changed),
        _ => {}
    }
}

/// A place only one side has: removed when it is the active side's.
fn one_side(
    active_has_it: bool,
    pointer: &str,
    name: Option<&str>,
    ignore: &Ignore,
    out: &mut Vec<Difference>,
) {
    if !ignore.skips(pointer, name) {
        out.push(Difference {
            pointer: pointer.to_string(),
            change: if active_has_it {
                Change::Removed
            } else {
                Change::Added
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(a: Value, b: Value, ignore: &[&str]) -> Vec<(String, Change)> {
        diff(&a, &b, &Ignore::parse(ignore).expect("ignore list"))
            .into_iter()
            .map(|d| (d.pointer, d.change))
            .collect()
    }

    #[test]
    fn identical_documents_have_no_differences() {
        let doc = json!({"a": [1, {"b": null}], "c": "x"});
        assert!(pointers(doc.clone(), doc, &[]).is_empty());
    }

    #[test]
    fn nested_objects_name_the_leaf_that_changed() {
        let a = json!({"shipment": {"stop": {"city": "Austin", "zip": "78701"}, "id": "S-1"}});
        let b = json!({"shipment": {"stop": {"city": "Dallas", "zip": "78701"}, "id": "S-1", "eta": 3}});
        assert_eq!(
            pointers(a, b, &[]),
            vec![
                ("/shipment/eta".to_string(), Change::Added),
                ("/shipment/stop/city".to_string(), Change::Changed),
            ]
        );
    }

    #[test]
    fn arrays_of_different_length_add_or_remove_their_tail() {
        let a = json!({"lines": [1, 2, 3]});
        let b = json!({"lines": [1, 5]});
        assert_eq!(
            pointers(a.clone(), b.clone(), &[]),
            vec![
                ("/lines/1".to_string(), Change::Changed),
                ("/lines/2".to_string(), Change::Removed),
            ]
        );
        assert_eq!(
            pointers(b, a, &[]),
            vec![
                ("/lines/1".to_string(), Change::Changed),
                ("/lines/2".to_string(), Change::Added),
            ]
        );
    }

    #[test]
    fn a_type_change_is_one_difference_at_its_place() {
        let a = json!({"amount": {"minor": 100, "currency": "USD"}, "n": 1});
        let b = json!({"amount": "100 USD", "n": 1.5});
        assert_eq!(
            pointers(a, b, &[]),
            vec![
                ("/amount".to_string(), Change::TypeChanged),
                // Both are JSON numbers: a changed value, not a type.
                ("/n".to_string(), Change::Changed),
            ]
        );
        assert_eq!(
            pointers(json!(null), json!(false), &[]),
            vec![(String::new(), Change::TypeChanged)]
        );
    }

    #[test]
    fn ignored_pointers_skip_their_subtree_and_names_skip_every_depth() {
        let a =
            json!({"meta": {"at": 1, "by": "x"}, "items": [{"at": 1, "q": 1}], "at": 1, "k": 1});
        let b =
            json!({"meta": {"at": 2, "by": "y"}, "items": [{"at": 2, "q": 2}], "at": 2, "k": 2});
        assert_eq!(
            pointers(a.clone(), b.clone(), &["/meta", "at"]),
            vec![
                ("/items/0/q".to_string(), Change::Changed),
                ("/k".to_string(), Change::Changed),
            ]
        );
        // A pointer is a place, not a prefix of names: /met does not skip /meta.
        assert_eq!(pointers(a, b, &["/met", "/items/0", "/k", "/at"]).len(), 2);
        // An added or removed member is ignored by its name too.
        assert!(pointers(json!({"a": 1}), json!({"a": 1, "at": 5}), &["at"]).is_empty());
    }

    #[test]
    fn member_names_are_escaped_in_pointers() {
        let a = json!({"a/b": 1, "m~n": 1});
        let b = json!({"a/b": 2, "m~n": 2});
        assert_eq!(
            pointers(a.clone(), b.clone(), &[]),
            vec![
                ("/a~1b".to_string(), Change::Changed),
                ("/m~0n".to_string(), Change::Changed),
            ]
        );
        assert_eq!(pointers(a, b, &["/a~1b"]).len(), 1);
    }

    #[test]
    fn bad_ignore_entries_are_refused_with_the_entry() {
        let e = Ignore::parse(&["/a~2"]).expect_err("bad escape");
        assert_eq!(e.entry, "/a~2");
        assert!(e.to_string().contains("followed by 0 or 1"), "{e}");
        assert!(Ignore::parse(&[""]).is_err());
    }
}
