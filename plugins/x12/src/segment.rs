//! One segment: its tag, its elements (1-based, as X12 numbers them) and
//! where it sits in the interchange, so errors can point at it.

use crate::{Delimiters, X12Error};

/// One segment of an interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    tag: String,
    elements: Vec<String>,
    component: char,
    index: usize,
    line: usize,
    occurrence: usize,
    tag_count: usize,
}

impl Segment {
    /// Splits `raw` (one segment without its terminator) with `delimiters`;
    /// `index` is its 1-based position in the interchange, `line` the 1-based
    /// line it starts on. `None` when `raw` does not start with a valid tag.
    pub(crate) fn parse(
        raw: &str,
        delimiters: &Delimiters,
        index: usize,
        line: usize,
    ) -> Option<Self> {
        let mut parts = raw.split(delimiters.element);
        let tag = parts.next()?;
        if !valid_tag(tag) {
            return None;
        }
        Some(Self {
            tag: tag.to_string(),
            elements: parts.map(str::to_string).collect(),
            component: delimiters.component,
            index,
            line,
            occurrence: 1,
            tag_count: 1,
        })
    }

    /// Records that this is the `occurrence`-th of `tag_count` segments with
    /// this tag in the interchange (used to index paths).
    pub(crate) fn set_occurrence(&mut self, occurrence: usize, tag_count: usize) {
        self.occurrence = occurrence;
        self.tag_count = tag_count;
    }

    /// The segment id, e.g. `AT7`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Number of elements present (trailing empty elements included).
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether the segment has no elements at all.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Element `n` (1-based: `element(1)` is `AT7-01`) exactly as sent;
    /// `""` when absent.
    pub fn element(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.elements.get(i))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Element `n` with surrounding spaces trimmed; `None` when absent or
    /// blank. This is what mappings normally want.
    pub fn value(&self, n: usize) -> Option<&str> {
        let v = self.element(n).trim();
        (!v.is_empty()).then_some(v)
    }

    /// Element `n` trimmed, or an error naming its path when absent or blank.
    pub fn required(&self, n: usize) -> Result<&str, X12Error> {
        self.value(n).ok_or_else(|| {
            self.error(
                Some(n),
                "required",
                format!("{}-{n:02} is required", self.tag),
            )
        })
    }

    /// The components of composite element `n` (split on the component
    /// separator); empty when the element is absent.
    pub fn components(&self, n: usize) -> Vec<&str> {
        let e = self.element(n);
        if e.is_empty() {
            Vec::new()
        } else {
            e.split(self.component).collect()
        }
    }

    /// 1-based position of the segment in the interchange (ISA is 1).
    pub fn index(&self) -> usize {
        self.index
    }

    /// 1-based line the segment starts on.
    pub fn line(&self) -> usize {
        self.line
    }

    /// 1-based occurrence of this tag in the interchange (the 2nd AT7 is 2).
    pub fn occurrence(&self) -> usize {
        self.occurrence
    }

    /// `/<SEG>` or, when the tag repeats in the interchange, `/<SEG>[n]`.
    pub fn segment_path(&self) -> String {
        if self.tag_count > 1 {
            format!("/{}[{}]", self.tag, self.occurrence)
        } else {
            format!("/{}", self.tag)
        }
    }

    /// The path of element `n`, e.g. `/AT7[2]/01` or `/B3/07`.
    pub fn path(&self, n: usize) -> String {
        format!("{}/{n:02}", self.segment_path())
    }

    /// `segment 15, line 15`: where to look in the file.
    pub fn position(&self) -> String {
        format!("segment {}, line {}", self.index, self.line)
    }

    /// An error about element `n` (or the whole segment for `None`); the
    /// message gets the segment's position appended.
    pub fn error(&self, n: Option<usize>, code: &str, message: impl AsRef<str>) -> X12Error {
        let path = match n {
            Some(n) => self.path(n),
            None => self.segment_path(),
        };
        X12Error::new(
            path,
            code,
            format!("{} ({})", message.as_ref(), self.position()),
        )
    }
}

/// Segment ids are 2 or 3 upper-case letters and digits, starting with a letter.
fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    (2..=3).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delimiters() -> Delimiters {
        Delimiters {
            element: '*',
            component: '>',
            repetition: None,
            segment: '~',
        }
    }

    #[test]
    fn elements_are_one_based_and_trimmed_on_request() {
        let seg = Segment::parse("AT7*D1*NS***20160726*1230*LT", &delimiters(), 15, 15)
            .expect("valid segment");
        assert_eq!(seg.tag(), "AT7");
        assert_eq!(seg.element(1), "D1");
        assert_eq!(seg.element(3), "");
        assert_eq!(seg.value(3), None);
        assert_eq!(seg.value(7), Some("LT"));
        assert_eq!(seg.element(0), "");
        assert_eq!(seg.element(99), "");
        assert_eq!(seg.len(), 7);
        assert_eq!(seg.path(1), "/AT7/01");
        assert_eq!(seg.position(), "segment 15, line 15");
    }

    #[test]
    fn repeated_tags_get_an_index_in_paths() {
        let mut seg = Segment::parse("AT7*ZZ", &delimiters(), 20, 4).expect("valid segment");
        seg.set_occurrence(2, 3);
        assert_eq!(seg.path(1), "/AT7[2]/01");
        let err = seg.required(5).expect_err("AT7-05 is absent");
        assert_eq!(err.path, "/AT7[2]/05");
        assert_eq!(err.code, "required");
        assert!(err.message.contains("line 4"), "{}", err.message);
    }

    #[test]
    fn composites_split_on_the_component_separator() {
        let seg = Segment::parse("SV1*HC>99213*25", &delimiters(), 3, 1).expect("valid segment");
        assert_eq!(seg.components(1), vec!["HC", "99213"]);
        assert!(seg.components(9).is_empty());
    }

    #[test]
    fn invalid_tags_are_refused() {
        for raw in ["", "A*1", "ABCD*1", "1A*2", "at7*D1", "   "] {
            assert!(
                Segment::parse(raw, &delimiters(), 1, 1).is_none(),
                "{raw:?}"
            );
        }
    }
}
