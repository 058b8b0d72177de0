//! NDJSON pages: reading one JSON object per line without copying.
//!
//! Snapshot endpoints answer `application/x-ndjson`, and a reconciliation run
//! hands a mapper pages of about a thousand lines per call, a million records
//! per system. This module reads such a page cheaply: a [`Line`] is a slice of
//! the body, strings parsed into [`Text`] borrow from it unless JSON escapes
//! force a copy, and nothing is built for a line beyond the plugin's own
//! typed struct.
//!
//! Problems are reported per line as JSON pointers `/line/<n>/<field>`, `n`
//! 1-based and counting blank lines too, so `sed -n <n>p` finds the line.
//! [`map_lines`] keeps going after a bad line, so one error lists every bad
//! line of the page (up to [`MAX_VIOLATIONS`]). [`LineProblems`] also holds
//! the field checks every page mapper makes the same way (currency codes,
//! RFC 3339 times), so their codes and messages agree across vendors.

use crate::message::json_error;
use crate::snapshot::currency_code;
use crate::time::is_rfc3339;
use crate::{Message, PluginError, Violation};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

/// At most this many violations are listed for one page; the rest are
/// counted in a final `too-many-problems` violation.
pub const MAX_VIOLATIONS: usize = 100;

/// One non-blank line of a page.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    number: usize,
    text: &'a [u8],
}

impl<'a> Line<'a> {
    /// 1-based line number in the page.
    pub fn number(&self) -> usize {
        self.number
    }

    /// The raw line, without its line ending.
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The JSON pointer of `field` on this line: `/line/<n>/<field>`, or
    /// `/line/<n>` for an empty `field`. Nested fields are written with
    /// slashes (`finalCharges/amount`).
    pub fn path(&self, field: &str) -> String {
        if field.is_empty() {
            format!("/line/{}", self.number)
        } else {
            format!("/line/{}/{field}", self.number)
        }
    }

    /// The line parsed as one JSON object into `T`, which may borrow from
    /// the page. Errors point into the line (`/line/<n>/...`); anything but
    /// exactly one object on the line is `malformed-json`.
    pub fn parse<T: Deserialize<'a>>(&self) -> Result<T, PluginError> {
        let first = self.text.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err(PluginError::invalid(
                self.path(""),
                "malformed-json",
                "each line must be one JSON object",
            ));
        }
        // Fast path: plain serde. Only a line that fails is parsed again with
        // path tracking, which costs about a fifth more per line.
        let de = &mut serde_json::Deserializer::from_slice(self.text);
        if let Ok(value) = T::deserialize(&mut *de)
            && de.end().is_ok()
        {
            return Ok(value);
        }
        let de = &mut serde_json::Deserializer::from_slice(self.text);
        let value = serde_path_to_error::deserialize(&mut *de)
            .map_err(|e| in_line(json_error(&self.path(""), e)))?;
        de.end().map_err(|e| {
            in_line(PluginError::invalid(
                self.path(""),
                "malformed-json",
                format!("one JSON object per line expected: {e}"),
            ))
        })?;
        Ok(value)
    }

    /// A collector for this line's problems.
    pub fn problems(&self) -> LineProblems<'a> {
        LineProblems {
            line: *self,
            found: Vec::new(),
        }
    }
}

/// serde_json counts lines within the one line it parsed: say `column` only,
/// since the pointer already names the page's line.
fn in_line(mut e: PluginError) -> PluginError {
    if let PluginError::InvalidInput { violations } = &mut e {
        for v in violations {
            if let Some(at) = v.message.find(" at line 1 column ") {
                v.message.replace_range(at..at + " at line 1".len(), " at");
            }
        }
    }
    e
}

/// The body of a page message: `input.kind` must be `kind`, else the call is
/// `unsupported`, naming `plugin`. The content type is not checked (snapshot
/// endpoints answer `application/x-ndjson` or plain JSON types).
pub fn page_body<'m>(
    input: &'m Message,
    plugin: &str,
    kind: &str,
) -> Result<&'m [u8], PluginError> {
    if input.kind != kind {
        return Err(PluginError::unsupported(format!(
            "{plugin} maps {kind:?} pages, not {:?}",
            input.kind
        )));
    }
    Ok(&input.body)
}

/// The non-blank lines of `body` (`\n` or `\r\n` endings; lines of only
/// whitespace are skipped).
pub fn lines(body: &[u8]) -> impl Iterator<Item = Line<'_>> {
    body.split(|b| *b == b'\n')
        .enumerate()
        .filter_map(|(i, raw)| {
            let text = raw.strip_suffix(b"\r").unwrap_or(raw);
            (!text.iter().all(u8::is_ascii_whitespace)).then_some(Line {
                number: i + 1,
                text,
            })
        })
}

/// Maps every line of `body` with `f`, in page order. An `invalid-input`
/// error of one line does not stop the page: every bad line's violations are
/// returned together. Other errors (`unsupported`, `rejected`) stop at once.
/// An empty page maps to no records.
pub fn map_lines<'a, T>(
    body: &'a [u8],
    mut f: impl FnMut(Line<'a>) -> Result<T, PluginError>,
) -> Result<Vec<T>, PluginError> {
    let estimate = body.iter().filter(|b| **b == b'\n').count() + 1;
    let mut out = Vec::with_capacity(estimate);
    let mut violations: Vec<Violation> = Vec::new();
    let mut bad_lines = 0usize;
    let mut unlisted = 0usize;
    for line in lines(body) {
        match f(line) {
            Ok(v) if violations.is_empty() => out.push(v),
            Ok(_) => {} // the page fails anyway: keep only the problems
            Err(PluginError::InvalidInput { violations: found }) => {
                bad_lines += 1;
                out = Vec::new();
                for v in found {
                    if violations.len() < MAX_VIOLATIONS {
                        violations.push(v);
                    } else {
                        unlisted += 1;
                    }
                }
            }
            Err(other) => return Err(other),
        }
    }
    if violations.is_empty() {
        return Ok(out);
    }
    if unlisted > 0 {
        violations.push(Violation::new(
            "",
            "too-many-problems",
            format!("{unlisted} more problems on the page's {bad_lines} bad lines are not listed"),
        ));
    }
    Err(PluginError::invalid_all(violations))
}

/// Collects every problem of one line, with paths under `/line/<n>`; paths
/// are only built when a problem is found.
#[derive(Debug)]
pub struct LineProblems<'a> {
    line: Line<'a>,
    found: Vec<Violation>,
}

impl LineProblems<'_> {
    /// Records a problem at `field` of the line.
    pub fn push(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.found
            .push(Violation::new(self.line.path(field), code, message));
    }

    /// The trimmed value of a required text field, or `""` after recording
    /// it as missing; blank text counts as missing.
    pub fn required<'v>(&mut self, value: Option<&'v str>, field: &str) -> &'v str {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => {
                let path = self.line.path(field);
                let message = format!("{path} is required");
                self.found.push(Violation::new(path, "required", message));
                ""
            }
        }
    }

    /// `raw` as an ISO 4217 currency code, upper-cased (see
    /// [`currency_code`]), or `None` after recording `invalid-currency` at
    /// `field`.
    pub fn currency<'v>(&mut self, field: &str, raw: &'v str) -> Option<Cow<'v, str>> {
        let code = currency_code(raw);
        if code.is_none() {
            self.push(
                field,
                "invalid-currency",
                format!("{raw:?} is not an ISO 4217 currency code"),
            );
        }
        code
    }

    /// `raw` when it is an RFC 3339 date-time with an offset, or `None` after
    /// recording `invalid-time` at `field`.
    pub fn time<'v>(&mut self, field: &str, raw: &'v str) -> Option<&'v str> {
        if is_rfc3339(raw) {
            Some(raw)
        } else {
            self.push(
                field,
                "invalid-time",
                format!("{raw:?} is not an RFC 3339 date-time with an offset"),
            );
            None
        }
    }

    /// Whether nothing was recorded.
    pub fn is_clean(&self) -> bool {
        self.found.is_empty()
    }

    /// The problems recorded so far as the error; call it only after
    /// recording at least one.
    pub fn into_error(self) -> PluginError {
        PluginError::invalid_all(self.found)
    }

    /// `Ok(value)` when nothing was recorded, else every problem.
    pub fn finish<T>(self, value: T) -> Result<T, PluginError> {
        if self.found.is_empty() {
            Ok(value)
        } else {
            Err(PluginError::invalid_all(self.found))
        }
    }
}

/// A JSON string that borrows from the input when it can (no escapes) and
/// owns a copy otherwise. Use it (also inside `Option`) for the string fields
/// of typed vendor records: unlike `Cow<str>`, it borrows inside `Option`,
/// and unlike `&str` it accepts escaped strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The trimmed text of an optional field, `None` when absent or blank.
pub fn present<'r>(value: &'r Option<Text<'_>>) -> Option<&'r str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(TextVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Rec<'a> {
        #[serde(borrow)]
        id: Option<Text<'a>>,
        n: Option<i64>,
    }

    fn violations(e: PluginError) -> Vec<(String, String)> {
        match e {
            PluginError::InvalidInput { violations } => {
                violations.into_iter().map(|v| (v.path, v.code)).collect()
            }
            other => panic!("not invalid input: {other}"),
        }
    }

    #[test]
    fn lines_are_numbered_from_one_and_blank_ones_skipped() {
        let body = b"{\"id\":\"a\"}\r\n\n   \n{\"id\":\"b\"}\n";
        let found: Vec<(usize, &[u8])> = lines(body).map(|l| (l.number(), l.text())).collect();
        assert_eq!(
            found,
            vec![(1, &b"{\"id\":\"a\"}"[..]), (4, &b"{\"id\":\"b\"}"[..])]
        );
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"\n\n").count(), 0);
    }

    #[test]
    fn text_borrows_unless_escaped() {
        let body = br#"{"id": "SO-1", "n": 1}"#;
        let line = lines(body).next().unwrap();
        let rec: Rec = line.parse().unwrap();
        assert!(matches!(rec.id.unwrap().0, Cow::Borrowed("SO-1")));
        let body = br#"{"id": "O\u2019Brien \"Paper\""}"#;
        let rec: Rec = lines(body).next().unwrap().parse().unwrap();
        assert_eq!(rec.id.unwrap().as_str(), "O\u{2019}Brien \"Paper\"");
    }

    #[test]
    fn present_trims_and_drops_blanks() {
        assert_eq!(present(&Some(Text(Cow::Borrowed("  x ")))), Some("x"));
        assert_eq!(present(&Some(Text(Cow::Owned("  ".into())))), None);
        assert_eq!(present(&None), None);
    }

    #[test]
    fn parse_errors_point_into_the_line() {
        let body = b"{\"id\": \"a\"}\n{\"id\": 5}\n{\"id\": \"a\"} {}\n{\"id\": \n[\"a\"]\n";
        let errs: Vec<Vec<(String, String)>> = lines(body)
            .filter_map(|l| l.parse::<Rec>().err())
            .map(violations)
            .collect();
        assert_eq!(
            errs,
            vec![
                vec![("/line/2/id".to_string(), "invalid-field".to_string())],
                vec![("/line/3".to_string(), "malformed-json".to_string())],
                // Cut short inside `id`: the pointer says where.
                vec![("/line/4/id".to_string(), "malformed-json".to_string())],
                vec![("/line/5".to_string(), "malformed-json".to_string())],
            ]
        );
    }

    #[test]
    fn map_lines_lists_every_bad_line() {
        let body = b"{\"id\":\"a\",\"n\":1}\n{\"n\":2}\n{\"id\":\"c\",\"n\":\"x\"}\n";
        let result = map_lines(body, |line| {
            let rec: Rec = line.parse()?;
            let mut p = line.problems();
            let id = p.required(rec.id.as_deref(), "id").to_string();
            p.finish(id)
        });
        assert_eq!(
            violations(result.unwrap_err()),
            vec![
                ("/line/2/id".to_string(), "required".to_string()),
                ("/line/3/n".to_string(), "invalid-field".to_string()),
            ]
        );
        let ok = map_lines(b"{\"id\":\"a\",\"n\":1}\n\n{\"id\":\"b\"}", |line| {
            let rec: Rec = line.parse()?;
            Ok((rec.id.unwrap().as_str().to_string(), rec.n))
        });
        assert_eq!(
            ok.unwrap(),
            vec![("a".to_string(), Some(1)), ("b".to_string(), None)]
        );
    }

    #[test]
    fn map_lines_caps_the_listed_violations() {
        let body = "{}\n".repeat(MAX_VIOLATIONS + 5);
        let err = map_lines(body.as_bytes(), |line| {
            let mut p = line.problems();
            p.required(None, "id");
            p.finish(())
        })
        .unwrap_err();
        let v = violations(err);
        assert_eq!(v.len(), MAX_VIOLATIONS + 1);
        assert_eq!(v.last().unwrap().1, "too-many-problems");
    }

    #[test]
    fn pages_of_another_kind_are_unsupported() {
        let msg = Message::new("a.snapshot", "", "{}");
        assert_eq!(page_body(&msg, "p", "a.snapshot").unwrap(), b"{}");
        assert_eq!(
            page_body(&msg, "p", "b.snapshot"),
            Err(PluginError::unsupported(
                "p maps \"b.snapshot\" pages, not \"a.snapshot\""
            ))
        );
    }

    #[test]
    fn currencies_and_times_are_checked_where_they_stand() {
        let line = lines(b"\n{}").next().unwrap();
        let mut p = line.problems();
        assert_eq!(p.currency("currency", "usd").as_deref(), Some("USD"));
        assert_eq!(
            p.time("at", "2026-05-28T14:03:00Z"),
            Some("2026-05-28T14:03:00Z")
        );
        assert!(p.is_clean());
        assert_eq!(p.currency("money/currency", "US$"), None);
        assert_eq!(p.time("at", "2026-05-28"), None);
        assert_eq!(
            violations(p.into_error()),
            vec![
                (
                    "/line/2/money/currency".to_string(),
                    "invalid-currency".to_string()
                ),
                ("/line/2/at".to_string(), "invalid-time".to_string()),
            ]
        );
    }

    #[test]
    fn other_errors_stop_the_page() {
        let err = map_lines(b"{}\n{}", |_| -> Result<(), _> {
            Err(PluginError::unsupported("no"))
        })
        .unwrap_err();
        assert_eq!(err, PluginError::unsupported("no"));
    }
}
