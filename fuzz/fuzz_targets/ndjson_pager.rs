//! Fuzzes the reconcile NDJSON pager (`waybill::reconcile::Pager`) against a
//! plain model of what it must do: split the whole body on `\n`, drop one
//! trailing `\r`, drop blank lines, report lines longer than the cap, and
//! hand out the rest in order, in pages of exactly `page_lines` lines but
//! the last. The body reaches the pager in chunks cut at fuzzer-chosen
//! places, so chunk boundaries must never change the answer.
//!
//! Input: byte 0 = page lines - 1 (mod 16), bytes 1-2 = line cap (u16 LE),
//! byte 3 = chunking seed, then the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill::reconcile::{Cut, Pager};

/// What the pager must hand out, computed from the whole body at once.
struct Expected {
    lines: Vec<(u64, Vec<u8>)>,
    oversized: Vec<(u64, usize)>,
}

fn model(body: &[u8], max_line: usize) -> Expected {
    let mut expected = Expected {
        lines: Vec::new(),
        oversized: Vec::new(),
    };
    let mut pieces: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    // A body ending in `\n` has no line after it.
    if pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    for (i, piece) in pieces.into_iter().enumerate() {
        let number = i as u64 + 1;
        if piece.len() > max_line {
            expected.oversized.push((number, piece.len()));
            continue;
        }
        let line = piece.strip_suffix(b"\r").unwrap_or(piece);
        if !line.trim_ascii().is_empty() {
            expected.lines.push((number, line.to_vec()));
        }
    }
    expected
}

fuzz_target!(|data: &[u8]| {
    let [lines, cap_lo, cap_hi, seed, body @ ..] = data else {
        return;
    };
    let page_lines = usize::from(*lines % 16) + 1;
    let max_line = usize::from(u16::from_le_bytes([*cap_lo, *cap_hi]));

    let mut pager = Pager::new(page_lines, max_line);
    let mut out = Vec::new();
    let mut rest = body;
    let mut state = u32::from(*seed);
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let size = ((state >> 16) as usize % 64 + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        pager.push(chunk, &mut out);
        rest = tail;
    }
    pager.finish(&mut out);

    let expected = model(body, max_line);
    let mut lines = Vec::new();
    let mut oversized = Vec::new();
    let pages = out.iter().filter(|c| matches!(c, Cut::Page(_))).count();
    let mut seen_pages = 0;
    for cut in &out {
        match cut {
            Cut::Oversized { line, bytes } => oversized.push((*line, *bytes)),
            Cut::Page(page) => {
                seen_pages += 1;
                assert!(page.lines() > 0, "empty page");
                if seen_pages < pages {
                    assert_eq!(
                        page.lines(),
                        page_lines,
                        "a page before the last is not full"
                    );
                } else {
                    assert!(page.lines() <= page_lines);
                }
                assert_eq!(page.bytes.last(), Some(&b'\n'));
                let held: Vec<_> = page.each_line().map(|(n, l)| (n, l.to_vec())).collect();
                assert_eq!(
                    held.len(),
                    page.lines(),
                    "{}: numbers and lines disagree",
                    page.span()
                );
                lines.extend(held);
            }
        }
    }
    assert_eq!(oversized, expected.oversized);
    assert_eq!(lines, expected.lines);
});
