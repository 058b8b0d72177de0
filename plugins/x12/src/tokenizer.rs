//! Splits an interchange's text into segments, tolerating what real files do.
//!
//! Segments end at the declared terminator *and* at line breaks, so all of
//! these read the same: `~` terminators, `~` plus a newline, newline-only
//! terminators (declared in the ISA, or simply left out), CRLF, several
//! segments on one line and blank lines. Reading stops after `IEA`, so
//! padding or garbage after the trailer is ignored.

use crate::{Delimiters, Segment, X12Error};
use std::collections::HashMap;

/// Tokenizes `text` into segments from `ISA` to `IEA` inclusive.
pub(crate) fn tokenize(text: &str) -> Result<(Delimiters, Vec<Segment>), X12Error> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let start = text.len() - text.trim_start().len();
    let leading_lines = text[..start].matches('\n').count();
    let body = &text[start..];
    let delimiters = Delimiters::from_isa(body)?;

    let mut segments = Vec::new();
    // Every line break ends a piece, so a piece never spans lines: the line
    // it starts on is the line of its first character.
    let mut line = 1 + leading_lines;
    let mut piece_start = 0;
    let mut piece_line = line;
    let mut ended = false;
    for (i, c) in body.char_indices() {
        let next = i + c.len_utf8();
        if c == delimiters.segment || c == '\n' || c == '\r' {
            if push_segment(
                &body[piece_start..i],
                piece_line,
                &delimiters,
                &mut segments,
            )? {
                ended = true;
                break;
            }
            piece_start = next;
        }
        // CRLF counts once; a lone CR (old Mac files) ends a line too.
        if c == '\n' || (c == '\r' && !body[next..].starts_with('\n')) {
            line += 1;
        }
        if piece_start == next {
            piece_line = line;
        }
    }
    if !ended && push_segment(&body[piece_start..], piece_line, &delimiters, &mut segments)? {
        ended = true;
    }
    if !ended {
        return Err(X12Error::new(
            "/IEA",
            "missing-trailer",
            "the interchange has no IEA trailer segment; it is truncated",
        ));
    }
    number_occurrences(&mut segments);
    Ok((delimiters, segments))
}

/// Adds `raw` as the next segment when it is not blank; `Ok(true)` when it
/// was the `IEA` trailer.
fn push_segment(
    raw: &str,
    line: usize,
    delimiters: &Delimiters,
    segments: &mut Vec<Segment>,
) -> Result<bool, X12Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(false);
    }
    let index = segments.len() + 1;
    let Some(segment) = Segment::parse(raw, delimiters, index, line) else {
        let shown: String = raw.chars().take(40).collect();
        return Err(X12Error::new(
            format!("/segment[{index}]"),
            "malformed-segment",
            format!("segment {index} on line {line} does not start with a segment id: {shown:?}"),
        ));
    };
    let is_trailer = segment.tag() == "IEA";
    segments.push(segment);
    Ok(is_trailer)
}

/// Numbers each segment among those with the same tag, for paths.
fn number_occurrences(segments: &mut [Segment]) {
    let mut totals: HashMap<String, usize> = HashMap::new();
    for s in segments.iter() {
        *totals.entry(s.tag().to_string()).or_default() += 1;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for s in segments.iter_mut() {
        let n = seen.entry(s.tag().to_string()).or_default();
        *n += 1;
        let total = totals.get(s.tag()).copied().unwrap_or(1);
        s.set_occurrence(*n, total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*1303*U*00403*000082265*0*T*>~";

    /// A small 214 with `*`/`>`/`~`, one segment per line.
    const BASIC: &str = "ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*1303*U*00403*000082265*0*T*>~
GS*QM*SCAC*MGCTLYST*20160726*1303*82265*X*004030~
ST*214*822650001~
B10*1751807*75027674*SCAC~
LX*1~
AT7*D1*NS***20160726*1230*LT~
MS1*BRATTLEBORO*VT~
SE*5*822650001~
GE*1*82265~
IEA*1*000082265~
";

    fn tags(segments: &[Segment]) -> Vec<&str> {
        segments.iter().map(Segment::tag).collect()
    }

    fn basic_tags() -> Vec<&'static str> {
        vec![
            "ISA", "GS", "ST", "B10", "LX", "AT7", "MS1", "SE", "GE", "IEA",
        ]
    }

    /// BASIC with its delimiters swapped for `element`, `component` and
    /// `terminator` (written after each segment, before `line_end`).
    fn variant(element: char, component: char, terminator: &str, line_end: &str) -> String {
        let mut out = String::new();
        for line in BASIC.lines() {
            let seg = line.trim_end_matches('~');
            let seg = if seg.starts_with("ISA") {
                format!("{}{component}", &seg[..seg.len() - 1])
            } else {
                seg.to_string()
            };
            out.push_str(&seg.replace('*', &element.to_string()));
            out.push_str(terminator);
            out.push_str(line_end);
        }
        out
    }

    #[test]
    fn tilde_terminators_one_segment_per_line() {
        let (d, segs) = tokenize(BASIC).expect("valid");
        assert_eq!(
            d,
            Delimiters {
                element: '*',
                component: '>',
                repetition: None,
                segment: '~'
            }
        );
        assert_eq!(tags(&segs), basic_tags());
        let at7 = &segs[5];
        assert_eq!(at7.value(7), Some("LT"));
        assert_eq!((at7.index(), at7.line()), (6, 6));
        assert_eq!(segs[0].value(13), Some("000082265"));
        assert_eq!(segs[0].element(16), ">");
    }

    #[test]
    fn tilde_terminators_on_a_single_line() {
        let text = BASIC.replace('\n', "");
        let (_, segs) = tokenize(&text).expect("valid");
        assert_eq!(tags(&segs), basic_tags());
        assert!(segs.iter().all(|s| s.line() == 1));
    }

    #[test]
    fn crlf_line_endings() {
        let text = BASIC.replace('\n', "\r\n");
        let (_, segs) = tokenize(&text).expect("valid");
        assert_eq!(tags(&segs), basic_tags());
        assert_eq!(segs[9].line(), 10);
        assert!(segs.iter().all(|s| !s.element(s.len()).ends_with('\r')));
    }

    #[test]
    fn newline_declared_as_terminator() {
        let text = variant('*', ':', "", "\n");
        let (d, segs) = tokenize(&text).expect("valid");
        assert_eq!(d.segment, '\n');
        assert!(d.newline_terminated());
        assert_eq!(d.component, ':');
        assert_eq!(tags(&segs), basic_tags());
        assert_eq!(segs[5].element(7), "LT");
        assert_eq!(segs[5].line(), 6);
    }

    #[test]
    fn newline_declared_as_terminator_with_crlf() {
        let text = variant('*', ':', "", "\r\n");
        let (d, segs) = tokenize(&text).expect("valid");
        assert_eq!(d.segment, '\n');
        assert_eq!(tags(&segs), basic_tags());
        assert_eq!(segs[9].line(), 10);
    }

    #[test]
    fn tilde_declared_but_later_segments_end_with_newlines_only() {
        let mut text = String::from(ISA);
        text.push('\n');
        for line in BASIC.lines().skip(1) {
            text.push_str(line.trim_end_matches('~'));
            text.push('\n');
        }
        let (_, segs) = tokenize(&text).expect("valid");
        assert_eq!(tags(&segs), basic_tags());
        assert_eq!(segs[3].value(2), Some("75027674"));
    }

    #[test]
    fn several_segments_on_one_line_and_blank_lines() {
        let text = BASIC
            .replace("LX*1~\n", "\n\n   \nLX*1~")
            .replace(
                "MS1*BRATTLEBORO*VT~\n",
                "MS1*BRATTLEBORO*VT~   SE*5*822650001~\n",
            )
            .replace("SE*5*822650001~\nGE", "GE");
        let (_, segs) = tokenize(&text).expect("valid");
        assert_eq!(tags(&segs), basic_tags());
        let lx = &segs[4];
        assert_eq!(lx.line(), 8, "LX follows three blank lines");
        assert_eq!(segs[5].line(), 8, "AT7 shares LX's line");
        assert_eq!(segs[6].line(), 9);
        assert_eq!(segs[7].line(), 9, "SE shares MS1's line");
        assert_eq!(segs[7].index(), 8);
    }

    #[test]
    fn trailing_whitespace_and_garbage_after_iea_are_ignored() {
        for tail in [
            "      ",
            "   \n\n",
            "\u{1a}",
            "junk that is not X12 ~ at all",
            "\r\n\r\n",
        ] {
            let text = format!("{}{tail}", BASIC.trim_end());
            let (_, segs) = tokenize(&text).expect(tail);
            assert_eq!(tags(&segs), basic_tags(), "{tail:?}");
        }
    }

    #[test]
    fn leading_bom_and_blank_lines_before_isa() {
        let text = format!("\u{feff}\n\n{BASIC}");
        let (_, segs) = tokenize(&text).expect("valid");
        assert_eq!(segs[0].line(), 3);
        assert_eq!(segs[9].line(), 12);
    }

    #[test]
    fn pipe_element_separator_with_other_terminator() {
        let text = variant('|', ':', "'", "");
        let (d, segs) = tokenize(&text).expect("valid");
        assert_eq!(
            d,
            Delimiters {
                element: '|',
                component: ':',
                repetition: None,
                segment: '\''
            }
        );
        assert_eq!(tags(&segs), basic_tags());
        assert_eq!(segs[5].value(5), Some("20160726"));
        assert_eq!(segs[5].value(7), Some("LT"));
    }

    #[test]
    fn caret_component_and_exclamation_terminator_with_lines() {
        let text = variant('^', '>', "!", "\r\n");
        let (d, segs) = tokenize(&text).expect("valid");
        assert_eq!((d.element, d.component, d.segment), ('^', '>', '!'));
        assert_eq!(tags(&segs), basic_tags());
    }

    #[test]
    fn repetition_separator_is_read_from_isa11() {
        let text = BASIC.replacen("*U*00403*", "*^*00501*", 1);
        let (d, _) = tokenize(&text).expect("valid");
        assert_eq!(d.repetition, Some('^'));
    }

    #[test]
    fn badly_padded_isa_is_read_by_counting_separators() {
        let text = BASIC.replacen("*SCAC           *", "*SCAC*", 1);
        let (d, segs) = tokenize(&text).expect("valid");
        assert_eq!((d.element, d.component, d.segment), ('*', '>', '~'));
        assert_eq!(tags(&segs), basic_tags());
    }

    #[test]
    fn refuses_what_is_not_an_interchange() {
        let err = tokenize("{\"not\": \"x12\"}").expect_err("json");
        assert_eq!((err.path.as_str(), err.code.as_str()), ("/ISA", "not-x12"));
        let err = tokenize("ISA*00*").expect_err("short");
        assert_eq!(err.code, "malformed-isa");
        let err = tokenize(&BASIC.replace("IEA*1*000082265~\n", "")).expect_err("no IEA");
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/IEA", "missing-trailer")
        );
        let err = tokenize(&BASIC.replace("LX*1~", "lx*1~")).expect_err("bad tag");
        assert_eq!(err.code, "malformed-segment");
        assert!(err.message.contains("line 5"), "{}", err.message);
        let err = tokenize(&BASIC.replacen("*>~", "*>A", 1)).expect_err("letter terminator");
        assert_eq!(err.code, "invalid-delimiter");
    }

    /// Found by the `x12_envelope` fuzz target: an ISA one element short
    /// had its delimiters read from the next segment and was accepted.
    #[test]
    fn isa_that_ends_before_isa16_is_refused() {
        let short = BASIC
            .replacen("*02*SCAC", "*02SCAC", 1)
            .replacen("GS*QM*", "GS*>~QM*", 1);
        let err = tokenize(&short).expect_err("ISA with 15 elements");
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/ISA", "malformed-isa")
        );
        assert!(
            err.message.contains("ends at character 105") && err.message.contains("'~'"),
            "{}",
            err.message
        );
        let broken = BASIC.replacen("SCAC           *", "SCAC\n          *", 1);
        let err = tokenize(&broken).expect_err("line break inside the ISA");
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/ISA", "malformed-isa")
        );
        assert!(err.message.contains("line break"), "{}", err.message);
    }

    #[test]
    fn repeated_tags_are_numbered() {
        let text = BASIC.replace(
            "MS1*BRATTLEBORO*VT~\n",
            "MS1*BRATTLEBORO*VT~\nLX*2~\nAT7*X6*NS***20160726*1300*ET~\n",
        );
        let (_, segs) = tokenize(&text).expect("valid");
        let at7s: Vec<&Segment> = segs.iter().filter(|s| s.tag() == "AT7").collect();
        assert_eq!(at7s[0].path(1), "/AT7[1]/01");
        assert_eq!(at7s[1].path(1), "/AT7[2]/01");
        assert_eq!(segs[3].path(2), "/B10/02");
    }
}
