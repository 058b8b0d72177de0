//! The delimiters an interchange declares in its ISA header.
//!
//! X12 has no fixed delimiters: the ISA segment is fixed-width, so the
//! element separator is its 4th character, the component separator is ISA16
//! and the segment terminator is the character right after ISA16.

use crate::X12Error;

/// Length of a well-formed ISA segment up to and including ISA16.
const ISA_LEN: usize = 105;
/// How far to look for ISA16 in a badly padded header.
const HEAD_LEN: usize = 256;
/// Number of elements in an ISA segment.
const ISA_ELEMENTS: usize = 16;

/// The separators of one interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    /// Separates elements (ISA character 4), usually `*`.
    pub element: char,
    /// Separates components of a composite element (ISA16), e.g. `>` or `:`.
    pub component: char,
    /// Separates repetitions (ISA11 from version 00402 on), when declared.
    pub repetition: Option<char>,
    /// Ends a segment (the character after ISA16), usually `~`; `'\n'` when
    /// segments end with line breaks.
    pub segment: char,
}

impl Delimiters {
    /// Whether segments end with line breaks rather than a printable character.
    pub fn newline_terminated(&self) -> bool {
        self.segment == '\n'
    }

    /// Reads the delimiters from the start of `text`, which must begin with
    /// `ISA`. The fixed positions are tried first; when a sender padded the
    /// header wrongly, the 16th element separator is searched for instead.
    pub fn from_isa(text: &str) -> Result<Self, X12Error> {
        if !text.starts_with("ISA") {
            return Err(X12Error::new(
                "/ISA",
                "not-x12",
                "the body does not start with an ISA segment, so it is not an X12 interchange",
            ));
        }
        let head: Vec<char> = text.chars().take(HEAD_LEN).collect();
        let element = head.get(3).copied().ok_or_else(too_short)?;
        if element.is_alphanumeric() || element.is_whitespace() {
            return Err(X12Error::new(
                "/ISA",
                "invalid-delimiter",
                format!("ISA element separator {element:?} must be a punctuation character"),
            ));
        }
        let isa16_at = fixed_isa16(&head, element).or_else(|| scanned_isa16(&head, element));
        let Some(isa16_at) = isa16_at else {
            return Err(X12Error::new(
                "/ISA",
                "malformed-isa",
                format!(
                    "the ISA segment does not have {ISA_ELEMENTS} elements separated by {element:?}"
                ),
            ));
        };
        let component = head.get(isa16_at).copied().ok_or_else(too_short)?;
        let declared = head.get(isa16_at + 1).copied().ok_or_else(too_short)?;
        let segment = match declared {
            '\r' | '\n' => '\n',
            c if c.is_whitespace() || c.is_alphanumeric() => {
                return Err(X12Error::new(
                    "/ISA/16",
                    "invalid-delimiter",
                    format!("segment terminator {c:?} after ISA16 is not usable"),
                ));
            }
            c => c,
        };
        // ISA16 found past the end of the ISA segment (an element missing):
        // the delimiters were read from the next segment.
        if let Some(at) = head[..isa16_at]
            .iter()
            .position(|&c| c == segment || c == '\n' || c == '\r')
        {
            let end = match head[at] {
                '\n' | '\r' => "a line break".to_string(),
                c => format!("segment terminator {c:?}"),
            };
            return Err(X12Error::new(
                "/ISA",
                "malformed-isa",
                format!(
                    "the ISA segment ends at character {} ({end}) before its {ISA_ELEMENTS} elements",
                    at + 1
                ),
            ));
        }
        if component.is_whitespace() || component == element || component == segment {
            return Err(X12Error::new(
                "/ISA/16",
                "invalid-delimiter",
                format!("component separator {component:?} clashes with the other delimiters"),
            ));
        }
        let repetition = repetition_separator(text, element, [component, segment]);
        Ok(Self {
            element,
            component,
            repetition,
            segment,
        })
    }
}

fn too_short() -> X12Error {
    X12Error::new("/ISA", "malformed-isa", "the ISA segment is truncated")
}

/// ISA16's index when the header has the standard fixed width.
fn fixed_isa16(head: &[char], element: char) -> Option<usize> {
    let separators = head
        .iter()
        .take(ISA_LEN - 1)
        .filter(|c| **c == element)
        .count();
    (head.get(ISA_LEN - 2) == Some(&element) && separators == ISA_ELEMENTS).then_some(ISA_LEN - 1)
}

/// ISA16's index found by counting element separators (badly padded headers).
fn scanned_isa16(head: &[char], element: char) -> Option<usize> {
    head.iter()
        .enumerate()
        .filter(|(_, c)| **c == element)
        .nth(ISA_ELEMENTS - 1)
        .map(|(i, _)| i + 1)
}

/// ISA11 is the repetition separator from version 00402 on, when it is
/// punctuation (older versions put the standards id `U` there).
fn repetition_separator(text: &str, element: char, others: [char; 2]) -> Option<char> {
    let isa11 = text.split(element).nth(11)?;
    let mut chars = isa11.chars();
    let c = chars.next()?;
    let single = chars.next().is_none();
    (single && !c.is_alphanumeric() && !c.is_whitespace() && !others.contains(&c)).then_some(c)
}
