//! Base-modification tags `MM`/`ML` (and the older `Mm`/`Ml`), decoded per the SAM optional
//! fields specification (SAMtags §1.7, hts-specs): the first step of reading methylation from
//! long reads (issue 16).
//!
//! `MM:Z` holds one entry per modification set, `BASE STRAND CODES [.|?], skip, skip, …;`:
//! * `BASE` is the unmodified base the skips count (`A C G T U`, or `N` for any base), counted
//!   along the read **as it came off the sequencer** (so along the reverse complement of `SEQ`
//!   for a record with flag 16);
//! * `STRAND` `+` means the modification is on that base of the read's own strand, `-` on the
//!   opposite strand (the base's complement);
//! * `CODES` are one or more one-letter codes (`m` 5mC, `h` 5hmC, `f`, `c`, `g`, `e`, `b`, `a`,
//!   `o`, `n`, …) or one ChEBI number;
//! * `.` (the default) says bases of that type not listed are unmodified (implicit), `?` that
//!   they were not called (explicit): in both cases no call is reported for them here;
//! * each skip is the number of `BASE`s passed over before the next modified one.
//!
//! `ML:B:C` holds one probability byte per call, in `MM` order; a set with several codes has
//! one byte per code at each position (interleaved). The probability is `(byte + 0.5) / 256`
//! (the spec's bin centre); [`ModCall::prob`] keeps the byte.
//!
//! [`decode`] returns each call at its position in `SEQ` (the stored orientation), so calls of
//! forward and reverse records line up with `SEQ` and the alignment. Malformed tags (a skip past
//! the last base, `ML` shorter or longer than the calls, a bad entry) are errors with the reason;
//! a record without the tags has no calls.

use std::fmt;

/// A modification code: a letter or a ChEBI number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModCode {
    /// One-letter code (`m`, `h`, …).
    Letter(u8),
    /// ChEBI identifier.
    Chebi(u32),
}

impl fmt::Display for ModCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModCode::Letter(c) => write!(f, "{}", *c as char),
            ModCode::Chebi(n) => write!(f, "({n})"),
        }
    }
}

/// Whether unlisted bases of a set are unmodified (`.`, the default) or uncalled (`?`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Unlisted bases are unmodified.
    Implicit,
    /// Unlisted bases were not called.
    Explicit,
}

/// One modification set of `MM` (an entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModSet {
    /// The unmodified base the skips count (`N`: any).
    pub base: u8,
    /// `+` or `-`.
    pub strand: u8,
    /// The codes, in order.
    pub codes: Vec<ModCode>,
    /// `.` or `?`.
    pub mode: Mode,
}

/// One call: a base of the read with a modification probability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModCall {
    /// 0-based position in `SEQ` (stored orientation).
    pub pos: usize,
    /// Index of its set in the decoded sets.
    pub set: usize,
    /// The code.
    pub code: ModCode,
    /// The `ML` byte (probability `(prob + 0.5) / 256`).
    pub prob: u8,
}

/// A malformed `MM`/`ML` pair, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModTagError(pub String);

impl fmt::Display for ModTagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModTagError {}

fn complement(b: u8) -> u8 {
    match b.to_ascii_uppercase() {
        b'A' => b'T',
        b'C' => b'G',
        b'G' => b'C',
        b'T' | b'U' => b'A',
        x => x,
    }
}

/// Parses `MM` into its sets and their skip lists.
pub fn parse_mm(mm: &[u8]) -> Result<Vec<(ModSet, Vec<usize>)>, ModTagError> {
    let text = std::str::from_utf8(mm).map_err(|_| ModTagError("MM is not text".into()))?;
    let mut out = Vec::new();
    for (k, entry) in text.split(';').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            continue;
        }
        let bad = |m: &str| ModTagError(format!("MM entry {} '{entry}': {m}", k + 1));
        let mut fields = entry.split(',');
        let head = fields.next().unwrap_or("").as_bytes();
        if head.len() < 3 {
            return Err(bad("expected BASE STRAND CODES"));
        }
        let base = head[0].to_ascii_uppercase();
        if !b"ACGTUN".contains(&base) {
            return Err(bad("the base must be one of A C G T U N"));
        }
        let strand = head[1];
        if strand != b'+' && strand != b'-' {
            return Err(bad("the strand must be + or -"));
        }
        let mut codes_part = &head[2..];
        let mode = match codes_part.last() {
            Some(b'?') => {
                codes_part = &codes_part[..codes_part.len() - 1];
                Mode::Explicit
            }
            Some(b'.') => {
                codes_part = &codes_part[..codes_part.len() - 1];
                Mode::Implicit
            }
            _ => Mode::Implicit,
        };
        let codes: Vec<ModCode> =
            if !codes_part.is_empty() && codes_part.iter().all(u8::is_ascii_digit) {
                let n = std::str::from_utf8(codes_part)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .ok_or_else(|| bad("ChEBI code out of range"))?;
                vec![ModCode::Chebi(n)]
            } else if !codes_part.is_empty() && codes_part.iter().all(u8::is_ascii_alphabetic) {
                codes_part.iter().map(|&c| ModCode::Letter(c)).collect()
            } else {
                return Err(bad(
                    "modification codes must be letters or one ChEBI number",
                ));
            };
        let skips = fields
            .map(|f| {
                f.trim()
                    .parse::<usize>()
                    .map_err(|_| bad(&format!("skip '{f}' is not a count")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push((
            ModSet {
                base,
                strand,
                codes,
                mode,
            },
            skips,
        ));
    }
    Ok(out)
}

/// Decodes `MM`/`ML` of a record with sequence `seq` (as stored) and `reverse` (flag 16):
/// the sets and every call, at positions in `seq`. Calls are ordered by set, then along the
/// original read, then by code.
pub fn decode(
    seq: &[u8],
    reverse: bool,
    mm: &[u8],
    ml: &[u8],
) -> Result<(Vec<ModSet>, Vec<ModCall>), ModTagError> {
    let parsed = parse_mm(mm)?;
    let n = seq.len();
    // The read as sequenced: SEQ, or its reverse complement.
    let original: Vec<u8> = if reverse {
        seq.iter().rev().map(|&b| complement(b)).collect()
    } else {
        seq.iter().map(u8::to_ascii_uppercase).collect()
    };
    let mut sets = Vec::with_capacity(parsed.len());
    let mut calls = Vec::new();
    let mut next_ml = 0usize;
    for (si, (set, skips)) in parsed.into_iter().enumerate() {
        let matches = |b: u8| set.base == b'N' || b == set.base || (set.base == b'U' && b == b'T');
        let mut at = 0usize; // next position of `original` to look at
        for (k, &skip) in skips.iter().enumerate() {
            // Pass `skip` bases of the set's type, then the next one is modified.
            let mut to_pass = skip;
            let pos = loop {
                let Some(off) = original[at..].iter().position(|&b| matches(b)) else {
                    return Err(ModTagError(format!(
                        "MM entry {}: skip {} (call {}) runs past the last {} of the {n}-base read",
                        si + 1,
                        skip,
                        k + 1,
                        set.base as char
                    )));
                };
                let p = at + off;
                at = p + 1;
                if to_pass == 0 {
                    break p;
                }
                to_pass -= 1;
            };
            let seq_pos = if reverse { n - 1 - pos } else { pos };
            for &code in &set.codes {
                let prob = *ml.get(next_ml).ok_or_else(|| {
                    ModTagError(format!(
                        "ML has {} probabilities but MM has more calls",
                        ml.len()
                    ))
                })?;
                next_ml += 1;
                calls.push(ModCall {
                    pos: seq_pos,
                    set: si,
                    code,
                    prob,
                });
            }
        }
        sets.push(set);
    }
    if next_ml != ml.len() {
        return Err(ModTagError(format!(
            "ML has {} probabilities but MM has {next_ml} calls",
            ml.len()
        )));
    }
    Ok((sets, calls))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (SEQ, flag, MM, ML) of each record of a spec SAM file.
    fn records(name: &str) -> Vec<(String, u16, Vec<u8>, Vec<u8>)> {
        let path = format!("{}/tests/data/modbam/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('@'))
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                let tag = |names: &[&str]| {
                    f[11..]
                        .iter()
                        .find(|t| names.iter().any(|n| t.starts_with(n)))
                        .map(|t| t[5..].to_string())
                        .unwrap_or_default()
                };
                let mm = tag(&["MM:Z:", "Mm:Z:"]).into_bytes();
                let ml: Vec<u8> = tag(&["ML:B:", "Ml:B:"])
                    .split(',')
                    .skip(1)
                    .map(|x| x.parse().unwrap())
                    .collect();
                (f[9].to_string(), f[1].parse().unwrap(), mm, ml)
            })
            .collect()
    }

    /// htslib's test-harness listing (test/test_mod.c) of one record: every base with its
    /// calls, then the modified bases again after `---`.
    fn listing(seq: &str, sets: &[ModSet], calls: &[ModCall]) -> Vec<String> {
        let mut per: Vec<Vec<String>> = vec![Vec::new(); seq.len()];
        let mut ordered: Vec<&ModCall> = calls.iter().collect();
        ordered.sort_by_key(|c| (c.pos, c.set));
        for c in ordered {
            let s = &sets[c.set];
            per[c.pos].push(format!(
                "{}{}{}{}",
                s.base as char, s.strand as char, c.code, c.prob
            ));
        }
        let line = |i: usize, p: &Vec<String>| {
            let b = seq.as_bytes()[i] as char;
            if p.is_empty() {
                format!("{i}\t{b}")
            } else {
                format!("{i}\t{b}\t{}", p.join(" "))
            }
        };
        let mut out: Vec<String> = per.iter().enumerate().map(|(i, p)| line(i, p)).collect();
        out.push("---".into());
        out.extend(
            per.iter()
                .enumerate()
                .filter(|(_, p)| !p.is_empty())
                .map(|(i, p)| line(i, p)),
        );
        out
    }

    #[test]
    fn every_htslib_spec_example_decodes_to_its_published_answer() {
        for name in ["MM-chebi", "MM-multi", "MM-double", "MM-explicit"] {
            let want = std::fs::read_to_string(format!(
                "{}/tests/data/modbam/{name}.out",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            // The answer lists each record, then `===`; the `Present:` line is htslib's own
            // summary of the sets (checked separately below).
            let blocks: Vec<Vec<String>> = want
                .split("===")
                .map(|b| {
                    b.lines()
                        .filter(|l| !l.trim().is_empty() && !l.starts_with("Present:"))
                        .map(str::to_string)
                        .collect()
                })
                .filter(|b: &Vec<String>| !b.is_empty())
                .collect();
            let recs = records(&format!("{name}.sam"));
            assert_eq!(blocks.len(), recs.len(), "{name}");
            for (k, ((seq, flag, mm, ml), block)) in recs.iter().zip(&blocks).enumerate() {
                let (sets, calls) = decode(seq.as_bytes(), flag & 16 != 0, mm, ml).unwrap();
                assert_eq!(
                    &listing(seq, &sets, &calls),
                    block,
                    "{name} record {}",
                    k + 1
                );
            }
        }
    }

    #[test]
    fn modes_chebi_codes_and_the_reverse_strand() {
        let (sets, _) = decode(b"ACCA", false, b"C+mh?,0;C+76792.,0", &[1, 2, 3]).unwrap();
        assert_eq!(sets[0].mode, Mode::Explicit);
        assert_eq!(
            sets[0].codes,
            [ModCode::Letter(b'm'), ModCode::Letter(b'h')]
        );
        assert_eq!(
            (sets[1].mode, sets[1].codes[0]),
            (Mode::Implicit, ModCode::Chebi(76792))
        );
        // MM-orient: the same molecule stored forward and reverse-complemented gives its calls
        // at mirrored SEQ positions (the same reference positions once aligned).
        let recs = records("MM-orient.sam");
        let fwd = decode(recs[0].0.as_bytes(), false, &recs[0].2, &recs[0].3)
            .unwrap()
            .1;
        let rev = decode(recs[1].0.as_bytes(), true, &recs[1].2, &recs[1].3)
            .unwrap()
            .1;
        let n = recs[0].0.len();
        let f: Vec<(usize, u8)> = fwd.iter().map(|c| (c.pos, c.prob)).collect();
        let mut r: Vec<(usize, u8)> = rev.iter().map(|c| (n - 1 - c.pos, c.prob)).collect();
        r.sort();
        assert_eq!(f, r);
        // Every call of the reverse record sits on a G of SEQ (a C of the original read).
        assert!(rev.iter().all(|c| recs[1].0.as_bytes()[c.pos] == b'G'));
    }

    #[test]
    fn malformed_tags_are_errors_with_the_reason() {
        let e = decode(b"ACGT", false, b"C+m,3;", &[9]).unwrap_err();
        assert!(
            e.0.contains("runs past the last C of the 4-base read"),
            "{e}"
        );
        let e = decode(b"ACGCT", false, b"C+m,0,0;", &[9]).unwrap_err();
        assert!(
            e.0.contains("ML has 1 probabilities but MM has more calls"),
            "{e}"
        );
        let e = decode(b"ACGCT", false, b"C+m,0;", &[9, 9]).unwrap_err();
        assert!(
            e.0.contains("ML has 2 probabilities but MM has 1 calls"),
            "{e}"
        );
        assert!(decode(b"ACGT", false, b"X+m,0;", &[1]).is_err());
        assert!(decode(b"ACGT", false, b"C*m,0;", &[1]).is_err());
        assert!(decode(b"ACGT", false, b"C+m,x;", &[1]).is_err());
        // No tags: no calls.
        assert_eq!(decode(b"ACGT", false, b"", &[]).unwrap().1, []);
        // Property: random edits of a valid pair never panic.
        let mut rng = crate::core::rng::SplitMix64(16);
        for _ in 0..5000 {
            let mut mm = b"C+mh?,2,2,0,0,4,1;N+n,15,2;".to_vec();
            let k = rng.below(mm.len() as u64) as usize;
            mm[k] = b",;+-.?0123456789CGNmh"[rng.below(21) as usize];
            let ml: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
            let _ = decode(
                b"AGCTCTCCAGAGTCGNACGCCATYCGCGCGCCACCA",
                rng.next() & 1 == 1,
                &mm,
                &ml,
            );
        }
    }
}
