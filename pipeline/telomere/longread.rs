//! Telomere length per molecule from long reads (ONT, PacBio HiFi): the terminal telomeric
//! tract of each read, in bases (issue 16, part 2).
//!
//! ## Repeats
//! Every k-mer of a read (k = the motif's length, 6 for `TTAGGG`) is classed as
//! * **canonical**: a rotation of the G-rich motif (`TTAGGG`) or of the C-rich one (`CCCTAA`);
//! * **telomere-like**: a rotation of a known variant repeat (G-rich `TCAGGG`, `TGAGGG`,
//!   `TTGGGG`, `TTCGGG`, `TTAGGGG`'s 6-mer `TAGGGG` is a rotation-neighbour and not listed) or
//!   of a nanopore miscall of the telomere: `TTAAAA` for `TTAGGG`, `CTTCTT` and `CCCTGG` for
//!   `CCCTAA` (Tan et al. 2022), each with its strand's complement (`CCCTGA`, `CCCTCA`,
//!   `CCCCAA`, `CCCGAA`; `TTTTAA`; `AAGAAG`, `CCAGGG`).
//!
//! Each base covered by a canonical k-mer is *canonical*, each other base covered by a
//! telomere-like k-mer is *like*. Both motifs are scanned at both ends of every read; the motif
//! is never inferred from the arm.
//!
//! ## The terminal tract
//! From each read end, for each motif: the tract starts at the first canonical base within
//! [`MAX_OFFSET`] bases of the end that opens three repeats in a row (adapters, and a chance
//! k-mer in them, are not telomere) and is walked inwards in blocks of [`BLOCK`] bases. A block whose canonical + like
//! bases make at least [`MIN_DENSITY`] of it continues the tract; the walk also crosses
//! stretches without canonical repeats (variant repeats, miscalls, a sequencing-error
//! cluster) of up to [`MAX_BRIDGE`] bases when canonical repeats resume after them. The tract
//! ends at the **last canonical base** reached; `telomere_length_bp` is its length from its
//! first canonical base. The tract at an end counts when it is at least [`MIN_TRACT`] bases.
//!
//! ## Classes
//! * `telomeric_end`: a tract at the end where a chromosome end reads it: the C-rich motif at
//!   the read's start (in `SEQ` orientation) or the G-rich motif at its end;
//! * `interstitial`: no such tract, but a telomeric stretch of at least [`MIN_TRACT`] bases
//!   elsewhere (inside the read, or a tract in the other orientation at an end);
//! * `none`: neither (these reads are counted, not listed).
//!
//! When the read is aligned (primary record), its arm is the contig and `p` or `q` by which
//! half of the contig the alignment lies in (`chr1p`). Secondary and supplementary records are
//! skipped.
//!
//! ## Per sample
//! Count of telomeric reads, mean, median, SD (n − 1), N50 (the length at which telomeric reads
//! this long or longer hold half of the telomeric bases), the fraction below
//! [`SHORT_TELOMERE_BP`] (3 kb, a cut-off used for "short telomeres" in long-read studies),
//! the 10th/25th/75th/90th percentiles, the count per 2-kb bin (`telomere_reads_00_02kb` …
//! `telomere_reads_20kb_plus`, the report's histogram) and, where reads are aligned, the
//! median per arm.
//!
//! References: Tan K-T, Slevin MK, Meyerson M, Li H (2022) Identifying and correcting
//! repeat-calling errors in nanopore sequencing of telomeres. Genome Biology 23:180,
//! doi:10.1186/s13059-022-02751-6. Stephens Z, Kocher J-P (2024) Characterization of telomere
//! variant repeats using long reads enables allele-specific telomere length estimation. BMC
//! Bioinformatics 25:194 (Telogator2, whose test reads check this module).

use crate::{
    core::{Provenance, QcStatus},
    reads::{view::flags, InputInfo, ReadStage, ReadView},
    tidy::Row,
};

use super::ASSAY;

/// Bases at a read end that may come before the tract (adapter, barcode).
pub const MAX_OFFSET: usize = 200;
/// Block size of the walk.
pub const BLOCK: usize = 100;
/// Fraction of a block's bases in canonical or telomere-like repeats to continue the tract.
pub const MIN_DENSITY: f64 = 0.5;
/// Longest stretch without canonical repeats the walk crosses.
pub const MAX_BRIDGE: usize = 1000;
/// Shortest tract that makes a telomeric read.
pub const MIN_TRACT: usize = 100;
/// Telomeres shorter than this count as short.
pub const SHORT_TELOMERE_BP: f64 = 3000.0;
/// Bins of the length histogram in the summary rows: 2 kb wide, the last open-ended.
pub const HIST_BINS: usize = 11;

/// The measure of histogram bin `b` (`telomere_reads_00_02kb` … `telomere_reads_20kb_plus`).
pub fn hist_measure(b: usize) -> String {
    if b + 1 == HIST_BINS {
        format!("telomere_reads_{:02}kb_plus", 2 * b)
    } else {
        format!("telomere_reads_{:02}_{:02}kb", 2 * b, 2 * b + 2)
    }
}

/// Suffix of the per-read table: `<prefix>.telomere_reads.tsv`.
pub const READS_SUFFIX: &str = "telomere_reads";

/// The repeat unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongReadOptions {
    /// The G-rich motif (`TTAGGG` vertebrates, `TTTAGGG` plants).
    pub motif: String,
}

impl LongReadOptions {
    /// Checks the motif: 5 to 8 bases of A, C, G, T.
    pub fn validate(&self) -> Result<(), crate::core::error::Error> {
        let m = self.motif.as_bytes();
        let count = |x: u8| m.iter().filter(|b| b.to_ascii_uppercase() == x).count();
        if count(b'C') > count(b'G') {
            return Err(crate::core::error::Error::usage(format!(
                "--motif {}: that is the C-rich strand's unit; give the G-rich one, {} (both strands are always scanned)",
                self.motif,
                String::from_utf8_lossy(&revcomp(&m.to_ascii_uppercase()))
            )));
        }
        if !(5..=8).contains(&m.len())
            || count(b'G') < 2
            || !m
                .iter()
                .all(|b| matches!(b.to_ascii_uppercase(), b'A' | b'C' | b'G' | b'T'))
        {
            return Err(crate::core::error::Error::usage(format!(
                "--motif {}: give the G-rich repeat unit, 5 to 8 bases of A, C, G, T (TTAGGG, TTTAGGG)",
                self.motif
            )));
        }
        Ok(())
    }
}

impl Default for LongReadOptions {
    fn default() -> Self {
        LongReadOptions {
            motif: "TTAGGG".to_string(),
        }
    }
}

/// One telomeric (or interstitial) read.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadTelomere {
    /// Record number in the input.
    pub record: u64,
    /// Read name.
    pub read_id: String,
    /// `chr1p`… when aligned.
    pub arm: String,
    /// Tract length in bases.
    pub length: usize,
    /// `telomeric_end` or `interstitial`.
    pub class: &'static str,
    /// Which motif (`TTAGGG` or `CCCTAA`) at which end (`start`, `end`, `inside`).
    pub motif: String,
    /// The read end the tract is at.
    pub end: &'static str,
    /// Bases between the read end and the tract's first canonical base.
    pub offset: usize,
    /// Read length.
    pub read_length: usize,
}

fn revcomp(s: &[u8]) -> Vec<u8> {
    s.iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            b'T' => b'A',
            x => x,
        })
        .collect()
}

fn rotations(m: &[u8]) -> Vec<Vec<u8>> {
    (0..m.len()).map(|i| [&m[i..], &m[..i]].concat()).collect()
}

/// k-mer classes: 0 none, 1 G canonical, 2 G like, 3 C canonical, 4 C like.
struct Kmers {
    k: usize,
    table: Vec<u8>,
}

impl Kmers {
    fn new(motif: &str) -> Self {
        let g = motif.as_bytes().to_ascii_uppercase();
        let k = g.len();
        let c = revcomp(&g);
        let mut table = vec![0u8; 1 << (2 * k)];
        let code = |s: &[u8]| -> Option<usize> {
            s.iter().try_fold(0usize, |acc, &b| {
                let v = match b {
                    b'A' => 0,
                    b'C' => 1,
                    b'G' => 2,
                    b'T' => 3,
                    _ => return None,
                };
                Some((acc << 2) | v)
            })
        };
        let mut set = |m: &[u8], class: u8| {
            for r in rotations(m) {
                if let Some(i) = code(&r) {
                    if table[i] == 0 || class % 2 == 1 {
                        table[i] = class;
                    }
                }
            }
        };
        if g == b"TTAGGG" {
            for v in [&b"TCAGGG"[..], b"TGAGGG", b"TTGGGG", b"TTCGGG", b"TTAAAA"] {
                set(v, 2);
            }
            for v in [
                &b"CCCTGA"[..],
                b"CCCTCA",
                b"CCCCAA",
                b"CCCGAA",
                b"CTTCTT",
                b"CCCTGG",
            ] {
                set(v, 4);
            }
        }
        set(&g, 1);
        set(&c, 3);
        Kmers { k, table }
    }
}

/// Per-base marks of one read for one motif strand: prefix sums of canonical and of
/// canonical-or-like bases.
struct Marks {
    canon: Vec<u32>,
    any: Vec<u32>,
    /// Positions of canonical bases (sorted), to find the last one in a range.
    canon_at: Vec<bool>,
}

impl Marks {
    fn count(v: &[u32], a: usize, b: usize) -> u32 {
        v[b] - v[a]
    }
}

fn marks(seq: &[u8], km: &Kmers) -> [Marks; 2] {
    let n = seq.len();
    let k = km.k;
    // Difference arrays for G canonical, G any, C canonical, C any.
    let mut diff = vec![[0i32; 4]; n + 1];
    let mask = (1usize << (2 * k)) - 1;
    let mut code = 0usize;
    let mut valid = 0usize;
    for (i, &b) in seq.iter().enumerate() {
        let v = match b {
            0..=3 => b as usize, // base codes A C G T
            _ => {
                valid = 0;
                continue;
            }
        };
        code = ((code << 2) | v) & mask;
        valid += 1;
        if valid >= k {
            let class = km.table[code];
            if class > 0 {
                let start = i + 1 - k;
                let strand = usize::from(class >= 3);
                let canonical = class % 2 == 1;
                if canonical {
                    diff[start][2 * strand] += 1;
                    diff[i + 1][2 * strand] -= 1;
                }
                diff[start][2 * strand + 1] += 1;
                diff[i + 1][2 * strand + 1] -= 1;
            }
        }
    }
    let mut out = [(); 2].map(|_| Marks {
        canon: vec![0; n + 1],
        any: vec![0; n + 1],
        canon_at: vec![false; n],
    });
    let mut run = [0i32; 4];
    for (i, d_i) in diff.iter().take(n).enumerate() {
        for (r, d) in run.iter_mut().zip(d_i) {
            *r += d;
        }
        for s in 0..2 {
            let c = run[2 * s] > 0;
            let a = run[2 * s + 1] > 0;
            out[s].canon[i + 1] = out[s].canon[i] + u32::from(c);
            out[s].any[i + 1] = out[s].any[i] + u32::from(a);
            out[s].canon_at[i] = c;
        }
    }
    out
}

/// The tract at the start of `m` (positions counted from that end by `at`): (offset, length).
fn tract(m: &Marks, n: usize, k: usize, at: impl Fn(usize) -> usize) -> Option<(usize, usize)> {
    // In end-relative coordinates i (0 = the read end), base i is at `at(i)`.
    let canon = |i: usize| m.canon_at[at(i)];
    let density = |a: usize, b: usize| -> f64 {
        let (lo, hi) = (at(a).min(at(b - 1)), at(a).max(at(b - 1)) + 1);
        f64::from(Marks::count(&m.any, lo, hi)) / (b - a) as f64
    };
    // The first base of three repeats in a row (a chance k-mer in an adapter is not one).
    let run = 3 * k;
    let first = (0..n.min(MAX_OFFSET)).find(|&i| i + run <= n && (i..i + run).all(canon))?;
    let canon_in = |a: usize, b: usize| -> Option<usize> {
        // The innermost canonical base in [a, b), end-relative.
        (a..b).rev().find(|&i| canon(i))
    };
    let mut last = first; // innermost canonical base so far
    let mut pos = first;
    'walk: while pos < n {
        let b = (pos + BLOCK).min(n);
        if density(pos, b) >= MIN_DENSITY {
            if let Some(c) = canon_in(pos, b) {
                last = last.max(c);
            }
            pos = b;
            // Dense, but without canonical repeats for longer than the bridge: the tract ended.
            if pos - last > MAX_BRIDGE {
                break;
            }
            continue;
        }
        // A weak block: the tract goes on only if a dense block with canonical repeats starts
        // within the bridge after the last canonical base.
        let limit = (last + 1 + MAX_BRIDGE).min(n);
        let mut q = pos + BLOCK / 2;
        while q < limit {
            let e = (q + BLOCK).min(n);
            if density(q, e) >= MIN_DENSITY && canon_in(q, e).is_some() {
                pos = q;
                continue 'walk;
            }
            q += BLOCK / 2;
        }
        break;
    }
    // A canonical repeat cut by the last block's edge belongs to the tract.
    while last + 1 < n && canon(last + 1) {
        last += 1;
    }
    let length = last + 1 - first;
    (length >= MIN_TRACT).then_some((first, length))
}

/// Longest telomeric stretch anywhere in the read (dense blocks in a row), for `interstitial`.
fn longest_inside(m: &Marks, n: usize) -> usize {
    let mut best = 0;
    let mut run = 0;
    let mut i = 0;
    while i + BLOCK <= n {
        let canon = Marks::count(&m.canon, i, i + BLOCK) as f64 / BLOCK as f64;
        if canon >= MIN_DENSITY {
            run += BLOCK;
            best = best.max(run);
        } else {
            run = 0;
        }
        i += BLOCK;
    }
    best
}

/// Measures one read (base codes 0..=4 in `SEQ` orientation).
pub fn measure(
    codes: &[u8],
    km_motif: &str,
) -> Option<(usize, &'static str, String, &'static str, usize)> {
    let km = Kmers::new(km_motif);
    measure_with(codes, &km, km_motif)
}

fn measure_with(
    codes: &[u8],
    km: &Kmers,
    motif: &str,
) -> Option<(usize, &'static str, String, &'static str, usize)> {
    let n = codes.len();
    if n == 0 {
        return None;
    }
    let [g, c] = marks(codes, km);
    let c_motif = String::from_utf8(revcomp(motif.as_bytes())).unwrap_or_default();
    // (length, offset, motif, end, expected orientation)
    let mut best: Option<(usize, usize, String, &'static str, bool)> = None;
    for (m, name, expected_end) in [
        (&g, motif.to_string(), "end"),
        (&c, c_motif.clone(), "start"),
    ] {
        for end in ["start", "end"] {
            let t = if end == "start" {
                tract(m, n, km.k, |i| i)
            } else {
                tract(m, n, km.k, |i| n - 1 - i)
            };
            if let Some((offset, length)) = t {
                let expected = end == expected_end;
                let better = match &best {
                    None => true,
                    Some(b) => (expected, length) > (b.4, b.0),
                };
                if better {
                    best = Some((length, offset, name.clone(), end, expected));
                }
            }
        }
    }
    match best {
        Some((length, offset, m, end, true)) => Some((length, "telomeric_end", m, end, offset)),
        Some((length, offset, m, end, false)) => Some((length, "interstitial", m, end, offset)),
        None => {
            let (lg, lc) = (longest_inside(&g, n), longest_inside(&c, n));
            let (l, m) = if lg >= lc {
                (lg, motif.to_string())
            } else {
                (lc, c_motif)
            };
            (l >= MIN_TRACT).then_some((l, "interstitial", m, "inside", 0))
        }
    }
}

/// The read stage.
pub struct LongReadStage {
    km: Kmers,
    /// The G-rich motif, upper case.
    pub motif: String,
    contigs: Vec<(String, usize)>,
}

impl LongReadStage {
    /// A stage for `opts` over an input with these contigs.
    pub fn new(opts: &LongReadOptions, info: &InputInfo) -> Self {
        LongReadStage {
            km: Kmers::new(&opts.motif),
            motif: opts.motif.to_ascii_uppercase(),
            contigs: info.contigs.clone(),
        }
    }
}

/// Accumulator: the telomeric reads and the counts.
#[derive(Default)]
pub struct LongReadAcc {
    /// Telomeric and interstitial reads.
    pub reads: Vec<ReadTelomere>,
    /// Reads scanned.
    pub scanned: u64,
}

impl ReadStage for LongReadStage {
    type Acc = LongReadAcc;

    fn accumulator(&self) -> LongReadAcc {
        LongReadAcc::default()
    }

    fn observe(&self, acc: &mut LongReadAcc, reads: &[ReadView<'_>]) {
        let mut scratch = Vec::new();
        for r in reads {
            if r.flags & (flags::SECONDARY | flags::SUPPLEMENTARY) != 0 {
                continue;
            }
            acc.scanned += 1;
            let codes = r.codes(&mut scratch);
            let Some((length, class, motif, end, offset)) =
                measure_with(codes, &self.km, &self.motif)
            else {
                continue;
            };
            let arm = match (r.tid, r.pos) {
                (Some(t), Some(p)) if r.flags & flags::UNMAPPED == 0 => {
                    let (name, len) = &self.contigs[t];
                    let mid = p + r.reference_span() / 2;
                    format!("{name}{}", if mid < *len as u64 / 2 { 'p' } else { 'q' })
                }
                _ => String::new(),
            };
            acc.reads.push(ReadTelomere {
                record: r.record,
                read_id: String::from_utf8_lossy(r.name).into_owned(),
                arm,
                length,
                class,
                motif,
                end,
                offset,
                read_length: r.len,
            });
        }
    }

    fn merge(&self, into: &mut LongReadAcc, from: LongReadAcc) {
        into.reads.extend(from.reads);
        into.scanned += from.scanned;
    }

    fn finish(&self, acc: LongReadAcc, _info: &InputInfo, prov: &Provenance) -> Vec<Row> {
        summary_rows(&acc, &self.motif, prov)
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    // Linear interpolation between order statistics (R type 7, numpy's default).
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// N50 of lengths: the length at which reads this long or longer hold half the bases.
pub fn n50(lengths: &[f64]) -> f64 {
    let mut v = lengths.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    let half = v.iter().sum::<f64>() / 2.0;
    let mut cum = 0.0;
    for x in &v {
        cum += x;
        if cum >= half {
            return *x;
        }
    }
    0.0
}

/// The per-sample rows (see the module doc).
pub fn summary_rows(acc: &LongReadAcc, motif: &str, prov: &Provenance) -> Vec<Row> {
    let method = format!(
        "longread_terminal_tract(motif={motif},block={BLOCK},min_density={MIN_DENSITY},max_bridge={MAX_BRIDGE},min_tract={MIN_TRACT})"
    );
    let ends: Vec<&ReadTelomere> = acc
        .reads
        .iter()
        .filter(|r| r.class == "telomeric_end")
        .collect();
    let mut lengths: Vec<f64> = ends.iter().map(|r| r.length as f64).collect();
    lengths.sort_by(f64::total_cmp);
    let n = lengths.len();
    let mut rows = Vec::new();
    let row = |measure: &str, value: f64, unit: &str, n_used: usize| {
        Row::new(prov, ASSAY, measure, value, unit, &method).with_n(n_used as u64)
    };
    rows.push(row(
        "telomeric_reads",
        n as f64,
        "reads",
        acc.scanned as usize,
    ));
    rows.push(row(
        "interstitial_telomeric_reads",
        (acc.reads.len() - n) as f64,
        "reads",
        acc.scanned as usize,
    ));
    let stats: Vec<(&str, Option<f64>, &str)> = if n == 0 {
        vec![
            ("telomere_length_mean_bp", None, "bp"),
            ("telomere_length_median_bp", None, "bp"),
        ]
    } else {
        let mean = lengths.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (lengths.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            f64::NAN
        };
        vec![
            ("telomere_length_mean_bp", Some(mean), "bp"),
            (
                "telomere_length_median_bp",
                Some(quantile(&lengths, 0.5)),
                "bp",
            ),
            ("telomere_length_sd_bp", (n > 1).then_some(sd), "bp"),
            ("telomere_length_n50_bp", Some(n50(&lengths)), "bp"),
            (
                "telomere_length_p10_bp",
                Some(quantile(&lengths, 0.1)),
                "bp",
            ),
            (
                "telomere_length_p25_bp",
                Some(quantile(&lengths, 0.25)),
                "bp",
            ),
            (
                "telomere_length_p75_bp",
                Some(quantile(&lengths, 0.75)),
                "bp",
            ),
            (
                "telomere_length_p90_bp",
                Some(quantile(&lengths, 0.9)),
                "bp",
            ),
            (
                "short_telomere_fraction",
                Some(lengths.iter().filter(|&&x| x < SHORT_TELOMERE_BP).count() as f64 / n as f64),
                "fraction",
            ),
        ]
    };
    for (measure, v, unit) in stats {
        match v {
            Some(v) => {
                let mut r = row(measure, v, unit, n);
                if n < 10 {
                    r.warn(&format!("only {n} telomeric reads"));
                }
                rows.push(r);
            }
            None => {
                let mut r = Row::empty(prov, ASSAY, measure, unit, &method);
                r.fail(if n == 0 {
                    "no telomeric read (no terminal TTAGGG/CCCTAA tract of at least 100 bp)"
                } else {
                    "needs at least two telomeric reads"
                });
                rows.push(r);
            }
        }
    }
    // The distribution: telomeric reads per 2-kb bin (the report's histogram).
    for b in 0..HIST_BINS {
        let (lo, hi) = (2000.0 * b as f64, 2000.0 * (b + 1) as f64);
        let last = b + 1 == HIST_BINS;
        let count = lengths
            .iter()
            .filter(|&&x| x >= lo && (last || x < hi))
            .count();
        rows.push(row(&hist_measure(b), count as f64, "reads", n));
    }
    // Per arm, where reads are aligned.
    let mut arms: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for r in &ends {
        if !r.arm.is_empty() {
            arms.entry(r.arm.as_str())
                .or_default()
                .push(r.length as f64);
        }
    }
    for (arm, mut v) in arms {
        v.sort_by(f64::total_cmp);
        let mut r = row(
            &format!("{arm}_telomere_length_median_bp"),
            quantile(&v, 0.5),
            "bp",
            v.len(),
        );
        r.add_note(&format!("reads aligned to {arm}"));
        rows.push(r);
    }
    debug_assert!(rows
        .iter()
        .all(|r| r.qc_status != QcStatus::Fail || r.value.is_none()));
    rows
}

/// The per-read table's header and rows (TSV), sorted by record.
pub fn reads_tsv(acc: &LongReadAcc, sample_id: &str) -> String {
    let mut reads: Vec<&ReadTelomere> = acc.reads.iter().collect();
    reads.sort_by_key(|r| r.record);
    let mut out = String::from(
        "sample_id\tread_id\tarm\ttelomere_length_bp\tclass\tmotif\tread_end\toffset_bp\tread_length\n",
    );
    for r in reads {
        out.push_str(&format!(
            "{sample_id}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            r.read_id, r.arm, r.length, r.class, r.motif, r.end, r.offset, r.read_length
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(s: &str) -> Vec<u8> {
        s.bytes()
            .map(|b| match b {
                b'A' => 0,
                b'C' => 1,
                b'G' => 2,
                b'T' => 3,
                _ => 4,
            })
            .collect()
    }

    fn filler(n: usize, seed: u64) -> String {
        let mut r = crate::core::rng::SplitMix64(seed);
        (0..n)
            .map(|_| b"ACGT"[r.below(4) as usize] as char)
            .collect()
    }

    #[test]
    fn g_rich_tail_is_measured_to_its_last_canonical_repeat() {
        let read = format!("{}{}", filler(3000, 1), "TTAGGG".repeat(500));
        let (len, class, motif, end, offset) = measure(&codes(&read), "TTAGGG").unwrap();
        assert_eq!(
            (class, motif.as_str(), end, offset),
            ("telomeric_end", "TTAGGG", "end", 0)
        );
        assert!((2995..=3000).contains(&len), "{len}");
    }

    #[test]
    fn c_rich_head_with_adapter_and_miscall_block() {
        // 40 bases of adapter, 2 kb CCCTAA, 600 bp of the nanopore miscall CTTCTT, 1 kb CCCTAA.
        let read = format!(
            "{}{}{}{}{}",
            filler(40, 2),
            "CCCTAA".repeat(333),
            "CTTCTT".repeat(100),
            "CCCTAA".repeat(166),
            filler(5000, 3)
        );
        let (len, class, motif, end, offset) = measure(&codes(&read), "TTAGGG").unwrap();
        assert_eq!(
            (class, motif.as_str(), end),
            ("telomeric_end", "CCCTAA", "start")
        );
        assert!((34..=45).contains(&offset), "{offset}");
        assert!((3590..=3600).contains(&len), "{len}");
    }

    #[test]
    fn a_long_gap_ends_the_tract() {
        let read = format!(
            "{}{}{}",
            "CCCTAA".repeat(200),
            filler(1500, 4),
            "CCCTAA".repeat(200)
        );
        let (len, ..) = measure(&codes(&read), "TTAGGG").unwrap();
        assert!((1195..=1206).contains(&len), "{len}");
    }

    #[test]
    fn interstitial_and_none() {
        let read = format!(
            "{}{}{}",
            filler(2000, 5),
            "TTAGGG".repeat(100),
            filler(2000, 6)
        );
        let (_, class, ..) = measure(&codes(&read), "TTAGGG").unwrap();
        assert_eq!(class, "interstitial");
        assert!(measure(&codes(&filler(5000, 7)), "TTAGGG").is_none());
        // The G-rich motif at the read's start is the wrong orientation for a chromosome end.
        let read = format!("{}{}", "TTAGGG".repeat(300), filler(2000, 8));
        let (_, class, ..) = measure(&codes(&read), "TTAGGG").unwrap();
        assert_eq!(class, "interstitial");
    }

    #[test]
    fn plant_motif() {
        let read = format!("{}{}", filler(2000, 9), "TTTAGGG".repeat(300));
        let (len, class, motif, ..) = measure(&codes(&read), "TTTAGGG").unwrap();
        assert_eq!((class, motif.as_str()), ("telomeric_end", "TTTAGGG"));
        assert!(len >= 2095, "{len}");
    }

    #[test]
    fn n50_and_quantiles() {
        assert_eq!(n50(&[1.0, 2.0, 3.0, 4.0]), 3.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    }
}
