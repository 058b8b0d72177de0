//! Maps between byte offsets in the TOML text and dotted key paths, so that
//! every configuration error can name both the line and the key: serde errors
//! carry a span but no key, semantic errors carry a key but no span.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A path such as `targets.erp.retry.max_attempts` or `routes[1].targets[0].filter`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeyPath(pub(crate) Vec<Seg>);

impl KeyPath {
    pub(crate) fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(Seg::Key(key.into()));
        self
    }

    pub(crate) fn index(mut self, index: usize) -> Self {
        self.0.push(Seg::Index(index));
        self
    }

    pub(crate) fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(key)) => Some(key),
            _ => None,
        }
    }
}

/// Starts a path at a top-level key.
pub(crate) fn path(key: &str) -> KeyPath {
    KeyPath::default().key(key)
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(index) => write!(f, "[{index}]")?,
                Seg::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_bare_key(key) {
                        f.write_str(key)?;
                    } else {
                        write!(f, "{key:?}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn is_bare_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The parsed document with its spans, for position lookups.
pub(crate) struct Locator<'t> {
    text: &'t str,
    root: Option<DeTable<'t>>,
}

impl<'t> Locator<'t> {
    /// A locator over `text`; if the text does not parse, lookups find nothing
    /// but line/column conversion still works.
    pub(crate) fn new(text: &'t str) -> Self {
        let root = DeTable::parse(text).ok().map(|table| table.into_inner());
        Self { text, root }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |nl| nl + 1);
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    /// The span of the deepest part of `path` present in the document: the
    /// key itself for a table entry, the element for an array index. `None`
    /// when not even the first key is present.
    pub(crate) fn span_of(&self, path: &KeyPath) -> Option<Range<usize>> {
        let root = self.root.as_ref()?;
        let mut current: Option<&DeValue<'t>> = None;
        let mut best = None;
        for seg in &path.0 {
            let next = match seg {
                Seg::Key(key) => {
                    let table = match current {
                        None => root,
                        Some(DeValue::Table(table)) => table,
                        Some(_) => break,
                    };
                    let found = table
                        .iter()
                        .find(|(k, _)| k.get_ref().as_ref() == key.as_str());
                    let Some((k, v)) = found else { break };
                    best = Some(k.span());
                    v
                }
                Seg::Index(index) => {
                    let Some(DeValue::Array(items)) = current else {
                        break;
                    };
                    let Some(item) = items.get(*index) else {
                        break;
                    };
                    best = Some(item.span());
                    item
                }
            };
            current = Some(next.get_ref());
        }
        best
    }

    /// The deepest key path whose key or value covers `offset`.
    pub(crate) fn path_at(&self, offset: usize) -> Option<KeyPath> {
        let root = self.root.as_ref()?;
        let mut best: Option<KeyPath> = None;
        walk_table(root, &KeyPath::default(), offset, &mut best);
        best
    }
}

fn covers(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

fn consider(candidate: &KeyPath, best: &mut Option<KeyPath>) {
    if best
        .as_ref()
        .is_none_or(|current| candidate.0.len() > current.0.len())
    {
        *best = Some(candidate.clone());
    }
}

fn walk_table(table: &DeTable<'_>, at: &KeyPath, offset: usize, best: &mut Option<KeyPath>) {
    for (key, value) in table.iter() {
        let here = at.clone().key(key.get_ref().as_ref());
        if covers(&key.span(), offset) || covers(&value.span(), offset) {
            consider(&here, best);
        }
        walk_value(value.get_ref(), &here, offset, best);
    }
}

fn walk_value(value: &DeValue<'_>, at: &KeyPath, offset: usize, best: &mut Option<KeyPath>) {
    match value {
        DeValue::Table(table) => walk_table(table, at, offset, best),
        DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let here = at.clone().index(index);
                if covers(&item.span(), offset) {
                    consider(&here, best);
                }
                walk_value(item.get_ref(), &here, offset, best);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[server]\nlisten = \"x\"\n\n[[routes]]\nname = \"a\"\n\n[[routes]]\nname = \"b\"\ninbound = { plugin = \"p\" }\n";

    #[test]
    fn paths_display_dotted_with_indices_and_quotes() {
        let p = path("routes")
            .index(1)
            .key("targets")
            .index(0)
            .key("filter");
        assert_eq!(p.to_string(), "routes[1].targets[0].filter");
        assert_eq!(path("sources").key("a.b").to_string(), "sources.\"a.b\"");
    }

    #[test]
    fn span_of_finds_keys_and_array_elements() {
        let loc = Locator::new(DOC);
        let span = loc.span_of(&path("routes").index(1).key("name"));
        assert_eq!(span.map(|s| loc.line_col(s.start)), Some((8, 1)));
        let span = loc.span_of(&path("routes").index(1).key("inbound").key("plugin"));
        assert_eq!(span.map(|s| loc.line_col(s.start)), Some((9, 13)));
        // A missing key falls back to the deepest present part.
        let span = loc.span_of(&path("routes").index(0).key("targets"));
        assert_eq!(span.map(|s| loc.line_col(s.start)), Some((4, 1)));
        assert_eq!(loc.span_of(&path("targets")), None);
    }

    #[test]
    fn path_at_finds_the_deepest_key() {
        let loc = Locator::new(DOC);
        let offset = DOC.find("\"p\"").unwrap_or_default();
        let found = loc.path_at(offset).map(|p| p.to_string());
        assert_eq!(found.as_deref(), Some("routes[1].inbound.plugin"));
    }
}
