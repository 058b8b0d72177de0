//! Finding segments and cutting a transaction set's body into loops.

use crate::Segment;

/// The first segment tagged `tag`.
pub fn first<'a>(segments: &'a [Segment], tag: &str) -> Option<&'a Segment> {
    segments.iter().find(|s| s.tag() == tag)
}

/// Cuts `segments` into the part before the first `start` segment and the
/// loops that each begin with a `start` segment and run to the next one
/// (e.g. `LX` loops of a 214 or 210). Segments following the last loop stay
/// in it; callers look for trailer segments such as `L3` themselves.
pub fn split_loops<'a>(
    segments: &'a [Segment],
    start: &str,
) -> (&'a [Segment], Vec<&'a [Segment]>) {
    let starts: Vec<usize> = segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.tag() == start)
        .map(|(i, _)| i)
        .collect();
    let Some(&first_start) = starts.first() else {
        return (segments, Vec::new());
    };
    let mut loops = Vec::with_capacity(starts.len());
    for (k, &from) in starts.iter().enumerate() {
        let to = starts.get(k + 1).copied().unwrap_or(segments.len());
        loops.push(&segments[from..to]);
    }
    (&segments[..first_start], loops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Interchange;

    #[test]
    fn cuts_lx_loops() {
        let text = "ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*1303*U*00403*000082265*0*T*>~\
GS*IM*SCAC*X*20160726*0528*1*X*004010~ST*210*1~B3**INV*BOL~LX*1~L1*1**PH*100~LX*2~L5*2*FUEL~L1*2***10****FUE~L3*****110~SE*9*1~GE*1*1~IEA*1*000082265~";
        let ix = Interchange::parse(text).expect("valid");
        let sets = ix.transaction_sets().expect("valid envelope");
        let (header, loops) = split_loops(sets[0].body(), "LX");
        assert_eq!(header.len(), 1);
        assert_eq!(loops.len(), 2);
        assert_eq!(
            loops[1].iter().map(Segment::tag).collect::<Vec<_>>(),
            vec!["LX", "L5", "L1", "L3"]
        );
        assert_eq!(first(loops[1], "L5").and_then(|s| s.value(2)), Some("FUEL"));
        assert!(first(header, "L1").is_none());
        let (all, none) = split_loops(header, "LX");
        assert_eq!((all.len(), none.len()), (1, 0));
    }
}
