//! Cuts a streamed NDJSON body into pages of whole lines, whatever the
//! chunk boundaries, so a snapshot plugin always sees complete records and
//! memory holds one page, not the answer. Blank lines are dropped; a line
//! longer than the cap is skipped and reported, never buffered.

/// Up to `page_lines` complete lines, each ending in `\n` (a `\r` before
/// it is removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// 1-based number in the answer of each line the page holds.
    pub numbers: Vec<u64>,
    pub bytes: Vec<u8>,
}

impl Page {
    /// How many lines it holds.
    pub fn lines(&self) -> usize {
        self.numbers.len()
    }

    /// `lines 3-1002` (or `line 3`), for messages.
    pub fn span(&self) -> String {
        match (self.numbers.first(), self.numbers.last()) {
            (Some(a), Some(b)) if a != b => format!("lines {a}-{b}"),
            (Some(a), _) => format!("line {a}"),
            _ => "no lines".into(),
        }
    }

    /// Each line (without its `\n`) with its number.
    pub fn each_line(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .zip(self.numbers.iter().copied())
            .map(|(l, n)| (n, l))
    }
}

/// What the pager hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    Page(Page),
    /// Line `line` was `bytes` long, over the cap; it was skipped.
    Oversized {
        line: u64,
        bytes: usize,
    },
}

/// Cuts chunks of an NDJSON body into [`Page`]s of at most `page_lines`
/// lines; lines longer than `max_line` bytes become [`Cut::Oversized`].
/// Public only so the `ndjson_pager` fuzz target (`fuzz/`) can drive it.
pub struct Pager {
    page_lines: usize,
    max_line: usize,
    /// Complete lines of the current page, then the partial current line.
    buf: Vec<u8>,
    /// Where the partial current line starts in `buf`.
    line_start: usize,
    numbers: Vec<u64>,
    /// Lines ended so far.
    line_no: u64,
    /// Length of the current line when it is being skipped.
    skipping: Option<usize>,
}

impl Pager {
    pub fn new(page_lines: usize, max_line: usize) -> Self {
        Self {
            page_lines: page_lines.max(1),
            max_line,
            buf: Vec::new(),
            line_start: 0,
            numbers: Vec::new(),
            line_no: 0,
            skipping: None,
        }
    }

    /// Feeds one chunk; full pages and skipped lines go to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Cut>) {
        let mut rest = chunk;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.extend(&rest[..i]);
            self.end_line(out);
            rest = &rest[i + 1..];
        }
        self.extend(rest);
    }

    /// Ends the answer: a last line without `\n` counts, and the partial
    /// page is handed out.
    pub fn finish(&mut self, out: &mut Vec<Cut>) {
        if self.skipping.is_some() || self.buf.len() > self.line_start {
            self.end_line(out);
        }
        self.flush(out);
    }

    fn extend(&mut self, bytes: &[u8]) {
        if let Some(skipped) = &mut self.skipping {
            *skipped += bytes.len();
            return;
        }
        let current = self.buf.len() - self.line_start;
        if current + bytes.len() > self.max_line {
            self.buf.truncate(self.line_start);
            self.skipping = Some(current + bytes.len());
            return;
        }
        self.buf.extend_from_slice(bytes);
    }

    fn end_line(&mut self, out: &mut Vec<Cut>) {
        self.line_no += 1;
        if let Some(bytes) = self.skipping.take() {
            out.push(Cut::Oversized {
                line: self.line_no,
                bytes,
            });
            return;
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if self.buf[self.line_start..].trim_ascii().is_empty() {
            self.buf.truncate(self.line_start);
            return;
        }
        self.buf.push(b'\n');
        self.numbers.push(self.line_no);
        self.line_start = self.buf.len();
        if self.numbers.len() == self.page_lines {
            self.flush(out);
        }
    }

    fn flush(&mut self, out: &mut Vec<Cut>) {
        if self.numbers.is_empty() {
            return;
        }
        let partial = self.buf.split_off(self.line_start);
        let bytes = std::mem::replace(&mut self.buf, partial);
        let numbers = std::mem::replace(&mut self.numbers, Vec::with_capacity(self.page_lines));
        out.push(Cut::Page(Page { numbers, bytes }));
        self.line_start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(input: &[&[u8]], page_lines: usize, max_line: usize) -> Vec<Cut> {
        let mut pager = Pager::new(page_lines, max_line);
        let mut out = Vec::new();
        for chunk in input {
            pager.push(chunk, &mut out);
        }
        pager.finish(&mut out);
        out
    }

    fn page(numbers: &[u64], bytes: &[u8]) -> Cut {
        Cut::Page(Page {
            numbers: numbers.to_vec(),
            bytes: bytes.to_vec(),
        })
    }

    #[test]
    fn pages_hold_whole_lines_whatever_the_chunks() {
        let body = b"{\"a\":1}\n{\"a\":2}\r\n\n{\"a\":3}\n{\"a\":4}";
        let expected = vec![
            page(&[1, 2], b"{\"a\":1}\n{\"a\":2}\n"),
            page(&[4, 5], b"{\"a\":3}\n{\"a\":4}\n"),
        ];
        assert_eq!(cut(&[body], 2, 100), expected);
        let bytewise: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(cut(&bytewise, 2, 100), expected);
        let odd: Vec<&[u8]> = body.chunks(5).collect();
        assert_eq!(cut(&odd, 2, 100), expected);
    }

    #[test]
    fn an_oversized_line_is_skipped_and_reported() {
        let out = cut(
            &[b"{\"a\":1}\n0123456789", b"0123456789\n{\"b\":2}\n"],
            10,
            12,
        );
        assert_eq!(
            out,
            vec![
                Cut::Oversized { line: 2, bytes: 20 },
                page(&[1, 3], b"{\"a\":1}\n{\"b\":2}\n"),
            ]
        );
        let Cut::Page(p) = &out[1] else {
            panic!("page expected")
        };
        let lines: Vec<_> = p.each_line().collect();
        assert_eq!(lines, vec![(1, &b"{\"a\":1}"[..]), (3, &b"{\"b\":2}"[..])]);
        assert_eq!(p.span(), "lines 1-3");
    }

    #[test]
    fn an_empty_answer_gives_nothing() {
        assert!(cut(&[b"", b"\n\n  \n"], 3, 10).is_empty());
    }
}
