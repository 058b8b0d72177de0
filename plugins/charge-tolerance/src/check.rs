//! The comparison itself: currencies and declared totals, then per code,
//! then the total of the quoted codes.

use crate::key::Key;
use crate::money::show;
use crate::subject::Subject;
use crate::tolerance::Tolerance;
use std::collections::BTreeMap;
use waybill_sdk::Violation;
use waybill_sdk::canonical::Charge;

/// The lines of one key on one side.
#[derive(Debug, Clone, Copy)]
struct Group {
    /// Sum of their amounts.
    sum: i128,
    /// Index of the first line.
    first: usize,
    /// How many lines.
    lines: usize,
}

fn group(charges: &[Charge]) -> BTreeMap<Key, Group> {
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    for (i, c) in charges.iter().enumerate() {
        let g = groups.entry(Key::of(c)).or_insert(Group {
            sum: 0,
            first: i,
            lines: 0,
        });
        g.sum += i128::from(c.amount_minor);
        g.lines += 1;
    }
    groups
}

/// Groups in the order their first line appears.
fn in_document_order(groups: &BTreeMap<Key, Group>) -> Vec<(&Key, &Group)> {
    let mut v: Vec<_> = groups.iter().collect();
    v.sort_by_key(|(_, g)| g.first);
    v
}

/// Every violation of `subject` under `tolerance`; empty when it passes.
pub fn check(subject: &Subject, tolerance: &Tolerance) -> Vec<Violation> {
    let currency = subject.currency;
    let (field, figure) = (subject.field, subject.figure);
    let mut out = Vec::new();

    let mut same_currency = true;
    for (field, lines) in [
        (field, &*subject.charges),
        ("reference_charges", subject.references),
    ] {
        for (i, c) in lines.iter().enumerate() {
            if c.currency != currency {
                same_currency = false;
                out.push(Violation::new(
                    format!("/{field}/{i}/currency"),
                    "currency-mismatch",
                    format!(
                        "{} is in {} but the {} is in {currency}; amounts are not compared",
                        c.charge_id, c.currency, subject.noun
                    ),
                ));
            }
        }
    }

    for total in &subject.totals {
        if total.parts != i128::from(total.declared) {
            out.push(Violation::new(
                total.path,
                "total-mismatch",
                format!(
                    "{} is {} {currency} but the {} sum to {} {currency}",
                    total.field,
                    show(total.declared.into(), currency),
                    total.parts_label,
                    show(total.parts, currency)
                ),
            ));
        }
    }

    if subject.references.is_empty() {
        out.push(Violation::new(
            "/reference_charges",
            "missing-quote",
            format!(
                "{} {} has no reference (quoted) charges to compare with",
                subject.noun, subject.id
            ),
        ));
        return out;
    }

    let finals = group(&subject.charges);
    let quoted = group(subject.references);

    for (i, c) in subject.charges.iter().enumerate() {
        let key = Key::of(c);
        if !quoted.contains_key(&key) {
            out.push(Violation::new(
                format!("/{field}/{i}/code"),
                "unquoted-charge",
                format!(
                    "{} {} {} was not quoted",
                    key.label(),
                    show(c.amount_minor.into(), c.currency.as_str()),
                    c.currency
                ),
            ));
        }
    }
    if !same_currency {
        return out;
    }

    let compare = |out: &mut Vec<Violation>,
                   path: String,
                   what: String,
                   final_sum: i128,
                   quoted_sum: i128| {
        let difference = (final_sum - quoted_sum).abs();
        let allowed = tolerance.allowed(quoted_sum);
        if difference > allowed {
            out.push(Violation::new(
                path,
                "over-tolerance",
                format!(
                    "{what}: {figure} {f} {currency} vs quoted {q} {currency} differ by {d}, more than the allowed {a} \
                     (the larger of {pct} of quoted = {rel} and {abs} absolute)",
                    f = show(final_sum, currency),
                    q = show(quoted_sum, currency),
                    d = show(difference, currency),
                    a = show(allowed, currency),
                    pct = tolerance.percent,
                    rel = show(tolerance.relative(quoted_sum), currency),
                    abs = show(tolerance.minor.0, currency),
                ),
            ));
        }
    };

    for (key, f) in in_document_order(&finals) {
        let Some(q) = quoted.get(key) else { continue };
        let what = if f.lines > 1 || q.lines > 1 {
            format!(
                "{} ({} {figure}, {} quoted lines)",
                key.label(),
                f.lines,
                q.lines
            )
        } else {
            key.label()
        };
        compare(
            &mut out,
            format!("/{field}/{}/amount_minor", f.first),
            what,
            f.sum,
            q.sum,
        );
    }
    for (key, q) in in_document_order(&quoted) {
        if !finals.contains_key(key) {
            let what = format!("{} (quoted, not charged)", key.label());
            compare(
                &mut out,
                format!("/reference_charges/{}/amount_minor", q.first),
                what,
                0,
                q.sum,
            );
        }
    }

    let quoted_total: i128 = quoted.values().map(|g| g.sum).sum();
    let final_total: i128 = finals
        .iter()
        .filter(|(k, _)| quoted.contains_key(k))
        .map(|(_, g)| g.sum)
        .sum();
    compare(
        &mut out,
        subject.quoted_total_path.into(),
        "total of quoted codes".into(),
        final_total,
        quoted_total,
    );
    out
}
