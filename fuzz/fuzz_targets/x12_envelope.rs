//! Fuzzes the X12 tokenizer and envelope checks (`waybill-x12`) the way the
//! X12 mapping plugins use them on a carrier's body: tokenize, check the
//! envelope, walk every segment and element, cut `LX` loops.
//!
//! Besides "never panics", it checks what the plugins rely on: a parsed
//! interchange runs from a complete `ISA` header to `IEA`, segment positions
//! are consistent, and transaction sets are `ST` .. `SE` inside a `GS`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waybill_x12::{Interchange, Segment, first, split_loops};

fuzz_target!(|data: &[u8]| {
    // Plugins receive bytes; non-UTF-8 bodies are read lossily by some.
    let text = String::from_utf8_lossy(data);
    let interchange = match Interchange::parse(&text) {
        Ok(interchange) => interchange,
        Err(err) => {
            assert!(err.path.starts_with('/'), "error path {:?}", err.path);
            assert!(!err.message.is_empty());
            return;
        }
    };
    let segments = interchange.segments();
    let isa = interchange.isa().expect("a parsed interchange has an ISA");
    assert_eq!(isa.tag(), "ISA");
    assert!(
        isa.len() >= 16,
        "ISA accepted with {} elements: {:?}",
        isa.len(),
        (0..=isa.len()).map(|n| isa.element(n)).collect::<Vec<_>>()
    );
    assert_eq!(segments.last().map(Segment::tag), Some("IEA"));
    let mut previous_line = 0;
    for (i, segment) in segments.iter().enumerate() {
        assert_eq!(segment.index(), i + 1);
        assert!(segment.line() >= previous_line, "lines go backwards");
        previous_line = segment.line();
        assert!(segment.occurrence() >= 1);
        let _ = segment.segment_path();
        let _ = segment.position();
        for n in 0..=segment.len() + 1 {
            let _ = segment.value(n);
            let _ = segment.components(n);
            let _ = segment.path(n);
            if let Err(err) = segment.required(n) {
                assert!(err.path.starts_with(&segment.segment_path()));
            }
        }
    }
    let _ = interchange.control_number();
    let _ = interchange.sender_id();
    let Ok(sets) = interchange.transaction_sets() else {
        return;
    };
    assert!(!sets.is_empty());
    for set in &sets {
        assert_eq!(set.group_header().tag(), "GS");
        assert_eq!(set.header().tag(), "ST");
        assert_eq!(set.trailer().tag(), "SE");
        assert_eq!(set.header().value(2), set.trailer().value(2));
        let body = set.body();
        assert_eq!(set.header().index() + body.len() + 1, set.trailer().index());
        let _ = set.expect_code(set.code());
        let (head, loops) = split_loops(body, "LX");
        let total = head.len() + loops.iter().map(|l| l.len()).sum::<usize>();
        assert_eq!(total, body.len(), "loops lose or repeat segments");
        for l in &loops {
            assert_eq!(l.first().map(Segment::tag), Some("LX"));
        }
        let _ = first(body, "B10");
    }
});
