//! The interchange envelope: ISA/IEA around GS/GE groups around ST/SE
//! transaction sets, with the counts and control numbers cross-checked so a
//! truncated or spliced file is refused instead of half-mapped.

use crate::{Delimiters, Segment, X12Error, tokenizer};

/// A tokenized interchange, `ISA` to `IEA` inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interchange {
    delimiters: Delimiters,
    segments: Vec<Segment>,
}

/// One transaction set (`ST` .. `SE`) inside its functional group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionSet<'a> {
    gs: &'a Segment,
    st: &'a Segment,
    body: &'a [Segment],
    se: &'a Segment,
}

impl Interchange {
    /// Tokenizes `text`; see the crate docs for what is tolerated.
    pub fn parse(text: &str) -> Result<Self, X12Error> {
        let (delimiters, segments) = tokenizer::tokenize(text)?;
        Ok(Self {
            delimiters,
            segments,
        })
    }

    /// The delimiters the ISA header declared.
    pub fn delimiters(&self) -> Delimiters {
        self.delimiters
    }

    /// Every segment, `ISA` to `IEA` inclusive.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The ISA header (always the first segment).
    pub fn isa(&self) -> Option<&Segment> {
        self.segments.first()
    }

    /// ISA13, the interchange control number, as sent (e.g. `000082265`).
    pub fn control_number(&self) -> &str {
        self.isa().and_then(|s| s.value(13)).unwrap_or("")
    }

    /// ISA06, the sender id, trimmed.
    pub fn sender_id(&self) -> &str {
        self.isa().and_then(|s| s.value(6)).unwrap_or("")
    }

    /// The transaction sets, after checking the envelope: GS/GE and ST/SE
    /// pair up, SE01/GE01/IEA01 counts match and SE02/GE02/IEA02 repeat the
    /// control numbers of ST02/GS06/ISA13.
    pub fn transaction_sets(&self) -> Result<Vec<TransactionSet<'_>>, X12Error> {
        let segs = &self.segments;
        let mut sets = Vec::new();
        let mut groups = 0usize;
        let mut i = 1;
        while i < segs.len() {
            let seg = &segs[i];
            match seg.tag() {
                "GS" => {
                    i = self.group(i, &mut sets)?;
                    groups += 1;
                }
                "IEA" => {
                    check_count(seg, 1, groups, "functional groups")?;
                    check_control(seg, 2, self.control_number(), "ISA13")?;
                    break;
                }
                other => {
                    return Err(seg.error(
                        None,
                        "unexpected-segment",
                        format!("{other} outside a functional group (expected GS or IEA)"),
                    ));
                }
            }
        }
        if sets.is_empty() {
            return Err(X12Error::new(
                "/ST",
                "required",
                "the interchange holds no transaction set",
            ));
        }
        Ok(sets)
    }

    /// Reads the group starting at `segs[start]` (a GS) into `sets`; returns
    /// the index after its GE.
    fn group<'a>(
        &'a self,
        start: usize,
        sets: &mut Vec<TransactionSet<'a>>,
    ) -> Result<usize, X12Error> {
        let segs = &self.segments;
        let gs = &segs[start];
        let mut count = 0usize;
        let mut i = start + 1;
        while let Some(seg) = segs.get(i) {
            match seg.tag() {
                "ST" => {
                    let end = set_end(segs, i)?;
                    let se = &segs[end];
                    let st = &segs[i];
                    check_count(se, 1, end - i + 1, "segments from ST to SE")?;
                    check_control(se, 2, st.value(2).unwrap_or(""), "ST02")?;
                    sets.push(TransactionSet {
                        gs,
                        st,
                        body: &segs[i + 1..end],
                        se,
                    });
                    count += 1;
                    i = end + 1;
                }
                "GE" => {
                    check_count(seg, 1, count, "transaction sets")?;
                    check_control(seg, 2, gs.value(6).unwrap_or(""), "GS06")?;
                    return Ok(i + 1);
                }
                "GS" | "IEA" => {
                    return Err(gs.error(
                        None,
                        "missing-trailer",
                        format!(
                            "functional group has no GE trailer before the {} at {}",
                            seg.tag(),
                            seg.position()
                        ),
                    ));
                }
                other => {
                    return Err(seg.error(
                        None,
                        "unexpected-segment",
                        format!("{other} inside a functional group but outside a transaction set (expected ST or GE)"),
                    ));
                }
            }
        }
        Err(gs.error(
            None,
            "missing-trailer",
            "functional group has no GE trailer",
        ))
    }
}

/// Index of the SE closing the set that starts at `segs[start]`.
fn set_end(segs: &[Segment], start: usize) -> Result<usize, X12Error> {
    for (i, seg) in segs.iter().enumerate().skip(start + 1) {
        match seg.tag() {
            "SE" => return Ok(i),
            "ST" | "GS" | "GE" | "ISA" | "IEA" => {
                return Err(seg.error(
                    None,
                    "missing-trailer",
                    format!(
                        "{} before the SE closing the transaction set opened at {}",
                        seg.tag(),
                        segs[start].position()
                    ),
                ));
            }
            _ => {}
        }
    }
    Err(segs[start].error(None, "missing-trailer", "transaction set has no SE trailer"))
}

fn check_count(seg: &Segment, n: usize, actual: usize, what: &str) -> Result<(), X12Error> {
    let declared = seg.required(n)?;
    match declared.parse::<usize>() {
        Ok(d) if d == actual => Ok(()),
        Ok(d) => Err(seg.error(
            Some(n),
            "count-mismatch",
            format!(
                "{}-{n:02} declares {d} {what} but there are {actual}",
                seg.tag()
            ),
        )),
        Err(_) => Err(seg.error(
            Some(n),
            "invalid-number",
            format!("{}-{n:02} {declared:?} is not a count", seg.tag()),
        )),
    }
}

fn check_control(seg: &Segment, n: usize, expected: &str, source: &str) -> Result<(), X12Error> {
    let declared = seg.required(n)?;
    if declared == expected {
        return Ok(());
    }
    Err(seg.error(
        Some(n),
        "control-number-mismatch",
        format!(
            "{}-{n:02} {declared:?} does not match {source} {expected:?}",
            seg.tag()
        ),
    ))
}

impl<'a> TransactionSet<'a> {
    /// ST01, the transaction set id, e.g. `214`.
    pub fn code(&self) -> &'a str {
        self.st.value(1).unwrap_or("")
    }

    /// ST02, the transaction set control number.
    pub fn control_number(&self) -> &'a str {
        self.st.value(2).unwrap_or("")
    }

    /// The GS header of the group holding this set.
    pub fn group_header(&self) -> &'a Segment {
        self.gs
    }

    /// The ST header.
    pub fn header(&self) -> &'a Segment {
        self.st
    }

    /// The SE trailer.
    pub fn trailer(&self) -> &'a Segment {
        self.se
    }

    /// The segments between ST and SE.
    pub fn body(&self) -> &'a [Segment] {
        self.body
    }

    /// An error unless ST01 is `code` (e.g. a 210 sent to the 214 mapping).
    pub fn expect_code(&self, code: &str) -> Result<(), X12Error> {
        if self.code() == code {
            return Ok(());
        }
        Err(self.st.error(
            Some(1),
            "unexpected-transaction-set",
            format!(
                "ST01 is {:?}, this mapping reads X12 {code} transaction sets",
                self.code()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_SETS: &str = "ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*1303*U*00403*000082265*0*T*>~
GS*QM*SCAC*MGCTLYST*20160726*1303*82265*X*004030~
ST*214*0001~
B10*PRO1*BOL1*SCAC~
SE*3*0001~
ST*214*0002~
B10*PRO2*BOL2*SCAC~
LX*1~
SE*4*0002~
GE*2*82265~
IEA*1*000082265~
";

    #[test]
    fn reads_sets_and_control_numbers() {
        let ix = Interchange::parse(TWO_SETS).expect("valid");
        assert_eq!(ix.control_number(), "000082265");
        assert_eq!(ix.sender_id(), "SCAC");
        let sets = ix.transaction_sets().expect("valid envelope");
        assert_eq!(sets.len(), 2);
        assert_eq!((sets[0].code(), sets[0].control_number()), ("214", "0001"));
        assert_eq!(sets[1].body().len(), 2);
        assert_eq!(sets[1].body()[0].value(2), Some("BOL2"));
        assert_eq!(sets[1].group_header().value(6), Some("82265"));
        assert!(sets[0].expect_code("214").is_ok());
        let err = sets[0].expect_code("210").expect_err("not a 210");
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/ST[1]/01", "unexpected-transaction-set")
        );
    }

    fn envelope_error(text: &str) -> X12Error {
        Interchange::parse(text)
            .expect("tokenizes")
            .transaction_sets()
            .expect_err("envelope is wrong")
    }

    #[test]
    fn wrong_counts_and_control_numbers_are_refused() {
        let err = envelope_error(&TWO_SETS.replace("SE*4*0002", "SE*5*0002"));
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/SE[2]/01", "count-mismatch")
        );
        assert!(
            err.message.contains("declares 5") && err.message.contains("are 4"),
            "{}",
            err.message
        );
        let err = envelope_error(&TWO_SETS.replace("SE*3*0001", "SE*3*0009"));
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/SE[1]/02", "control-number-mismatch")
        );
        let err = envelope_error(&TWO_SETS.replace("GE*2*", "GE*1*"));
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/GE/01", "count-mismatch")
        );
        let err = envelope_error(&TWO_SETS.replace("GE*2*82265", "GE*2*1"));
        assert_eq!(err.path, "/GE/02");
        let err = envelope_error(&TWO_SETS.replace("IEA*1*000082265", "IEA*1*000000001"));
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/IEA/02", "control-number-mismatch")
        );
        let err = envelope_error(&TWO_SETS.replace("IEA*1*", "IEA*x*"));
        assert_eq!(
            (err.path.as_str(), err.code.as_str()),
            ("/IEA/01", "invalid-number")
        );
    }

    #[test]
    fn broken_structure_is_refused() {
        let err = envelope_error(&TWO_SETS.replace("SE*3*0001~\n", ""));
        assert_eq!(err.code, "missing-trailer");
        assert!(err.message.contains("ST"), "{}", err.message);
        let err = envelope_error(&TWO_SETS.replace("GE*2*82265~\n", ""));
        assert_eq!(err.code, "missing-trailer");
        let err = envelope_error(&TWO_SETS.replace("GS*QM", "XX*QM"));
        assert_eq!(err.code, "unexpected-segment");
        let no_sets = "ISA*00*          *00*          *02*SCAC           *ZZ*MGCTLYST       *160726*1303*U*00403*000082265*0*T*>~GS*QM*A*B*20160726*1303*1*X*004030~GE*0*1~IEA*1*000082265~";
        let err = envelope_error(no_sets);
        assert_eq!((err.path.as_str(), err.code.as_str()), ("/ST", "required"));
    }
}
