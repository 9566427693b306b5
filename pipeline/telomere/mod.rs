//! Telomere length from sequencing reads: two published estimators side by side, from one
//! scan of each read ([`scan`]).
//!
//! * [`telseq`]: TelSeq (Ding et al. 2014), length in kb from reads with ≥ k TTAGGG repeats,
//!   normalised by reads with 48–52 % GC.
//! * [`telomerehunter`]: TelomereHunter (Feuerbach et al. 2019) telomere content, intratelomeric
//!   reads per million reads with 48–52 % GC.
//!
//! Both run in one [`TelomereStage`] registered on the read-pass engine, so each read's bases
//! are scanned once for both.

pub mod longread;
pub mod scan;
pub mod telomerehunter;
pub mod telseq;

use std::hash::{Hash, Hasher};

use crate::{
    core::{build::Build, error::Error, Provenance},
    reads::{view::flags, InputInfo, ReadStage, ReadView},
    tidy::Row,
};

use self::{
    telomerehunter::{Bands, Candidate, PlaceKey},
    telseq::{TelseqCounts, TEL_BINS},
};

/// The assay name in tidy rows.
pub const ASSAY: &str = "telomere";
/// Fixed output suffix: `<prefix>.telomere.tsv` / `.parquet`.
pub const SUFFIX: &str = "telomere";

/// Options of the telomere stage.
#[derive(Clone, Debug)]
pub struct TelomereOptions {
    /// TelSeq's `k`: reads with at least this many repeats are telomeric.
    pub k: u32,
    /// Reproduce the TelSeq binary's numbers exactly (see [`telseq`]).
    pub telseq_compat: bool,
    /// Fixed TelomereHunter threshold instead of the read-length-aware one.
    pub th_threshold: Option<u32>,
    /// Leave duplicates out of the TelomereHunter estimate (telomerehunter2 `-d`).
    pub th_remove_duplicates: bool,
}

impl TelomereOptions {
    /// Checks the options: `k` between 1 and 16 (a [`Category::Usage`](crate::core::error::Category::Usage) error
    /// otherwise).
    pub fn validate(&self) -> Result<(), Error> {
        if self.k == 0 || self.k as usize >= telseq::TEL_BINS {
            return Err(Error::usage(format!(
                "-k {}: must be between 1 and {}",
                self.k,
                telseq::TEL_BINS - 1
            )));
        }
        if self.th_threshold == Some(0) {
            return Err(Error::usage(
                "--th-threshold 0: must be at least 1 repeat (every read would count as telomeric)",
            ));
        }
        Ok(())
    }
}

impl Default for TelomereOptions {
    fn default() -> Self {
        TelomereOptions {
            k: 7,
            telseq_compat: false,
            th_threshold: None,
            th_remove_duplicates: false,
        }
    }
}

/// The telomere read stage.
pub struct TelomereStage {
    opts: TelomereOptions,
    read_groups: usize,
}

/// Per-worker counts of the telomere stage.
#[derive(Clone, Debug)]
pub struct TelomereAcc {
    /// TelSeq counters per read group (header order), the last one for reads without one.
    pub telseq: Vec<TelseqCounts>,
    /// Compat mode: the last record seen (number, group, repeats, gc, length, flags).
    last: Option<(u64, usize, u32, u32, u32, u16)>,
    /// Reads considered by TelomereHunter.
    pub th_total: u64,
    /// TelomereHunter GC % histogram (0..=100).
    pub th_gc: Vec<u64>,
    /// (record, length) of the first primary records, for the threshold.
    th_first_lengths: Vec<(u64, u32)>,
    /// Reads that may be telomeric at any allowed threshold.
    candidates: Vec<Candidate>,
    /// Histogram of primary read lengths.
    lengths: Vec<u64>,
}

const MAX_LENGTH_BIN: usize = 1 << 20;

impl TelomereStage {
    /// A stage for an input with `read_groups` header read groups.
    pub fn new(opts: TelomereOptions, read_groups: usize) -> Self {
        TelomereStage { opts, read_groups }
    }

    fn candidate_floor(&self) -> u32 {
        self.opts
            .th_threshold
            .unwrap_or(telomerehunter::MIN_THRESHOLD)
            .max(1)
    }
}

fn name_hash(name: &[u8]) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    name.hash(&mut h);
    h.finish()
}

impl ReadStage for TelomereStage {
    type Acc = TelomereAcc;

    fn finish(&self, acc: TelomereAcc, info: &InputInfo, prov: &Provenance) -> Vec<Row> {
        self.rows(acc, info, prov)
    }

    fn accumulator(&self) -> TelomereAcc {
        TelomereAcc {
            telseq: vec![TelseqCounts::default(); self.read_groups + 1],
            last: None,
            th_total: 0,
            th_gc: vec![0; 101],
            th_first_lengths: Vec::new(),
            candidates: Vec::new(),
            lengths: Vec::new(),
        }
    }

    fn observe(&self, acc: &mut TelomereAcc, reads: &[ReadView<'_>]) {
        let compat = self.opts.telseq_compat;
        let floor = self.candidate_floor();
        let mut scratch = Vec::new();
        for r in reads {
            let s = if r.packed.is_empty() {
                scan::scan(r.seq)
            } else {
                scan::scan_packed(r.packed, r.len, &mut scratch)
            };
            let primary = r.is_primary();
            let group = r
                .read_group
                .unwrap_or(self.read_groups)
                .min(self.read_groups);
            // TelSeq.
            if compat || primary {
                acc.telseq[group].observe(s.telseq_repeats(), s.gc, s.len, r.flags, compat);
                if compat && acc.last.is_none_or(|l| l.0 < r.record) {
                    acc.last = Some((r.record, group, s.telseq_repeats(), s.gc, s.len, r.flags));
                }
            }
            if !primary || r.len == 0 {
                continue;
            }
            let len = r.len;
            let bin = len.min(MAX_LENGTH_BIN);
            if acc.lengths.len() <= bin {
                acc.lengths.resize(bin + 1, 0);
            }
            acc.lengths[bin] += 1;
            if acc.th_first_lengths.len() < telomerehunter::LENGTH_SAMPLE {
                acc.th_first_lengths.push((r.record, s.len));
            }
            // TelomereHunter.
            if self.opts.th_remove_duplicates && r.flags & flags::DUPLICATE != 0 {
                continue;
            }
            acc.th_total += 1;
            if let Some(p) = telomerehunter::gc_percent(s.gc, s.n, s.len) {
                acc.th_gc[p.min(100)] += 1;
            }
            if s.th_fwd_hits >= floor || s.th_rev_hits >= floor {
                let seq = r.codes(&mut scratch);
                let fwd = if s.th_fwd_hits >= floor {
                    scan::th_greedy_count(seq, false)
                } else {
                    0
                };
                let rev = if s.th_rev_hits >= floor {
                    scan::th_greedy_count(seq, true)
                } else {
                    0
                };
                if fwd >= floor || rev >= floor {
                    acc.candidates.push(Candidate {
                        name_hash: name_hash(r.name),
                        mate_order: (r.flags & 0xC0) as u8,
                        record: r.record,
                        fwd,
                        rev,
                        place: PlaceKey {
                            unmapped: r.flags & flags::UNMAPPED != 0
                                || r.mapq < telomerehunter::MAPQ_THRESHOLD,
                            tid: r.tid.map(|t| t as u32),
                            pos: r.pos.unwrap_or(0),
                        },
                    });
                }
            }
        }
    }

    /// Packed BAM bases are scanned as they are ([`scan::scan_packed`]).
    fn needs_codes(&self) -> bool {
        false
    }

    fn merge(&self, into: &mut TelomereAcc, from: TelomereAcc) {
        for (a, b) in into.telseq.iter_mut().zip(from.telseq.iter()) {
            a.add(b);
        }
        if let Some(l) = from.last {
            if into.last.is_none_or(|m| m.0 < l.0) {
                into.last = Some(l);
            }
        }
        into.th_total += from.th_total;
        for (a, b) in into.th_gc.iter_mut().zip(from.th_gc.iter()) {
            *a += b;
        }
        into.th_first_lengths.extend(from.th_first_lengths);
        into.th_first_lengths.sort_unstable();
        into.th_first_lengths
            .truncate(telomerehunter::LENGTH_SAMPLE);
        into.candidates.extend(from.candidates);
        if into.lengths.len() < from.lengths.len() {
            into.lengths.resize(from.lengths.len(), 0);
        }
        for (a, b) in into.lengths.iter_mut().zip(from.lengths.iter()) {
            *a += b;
        }
    }
}

/// The most common read length (the longest among ties), 0 for no reads.
fn modal_length(lengths: &[u64]) -> usize {
    let mut best = (0u64, 0usize);
    for (len, &n) in lengths.iter().enumerate() {
        if n > 0 && n >= best.0 {
            best = (n, len);
        }
    }
    best.1
}

/// Below this many reads in a GC normaliser, estimates are flagged as imprecise.
pub const MIN_GC_READS: u64 = 1000;
/// TelSeq lengths outside this range (kb) warn: human leukocyte telomeres are about 3-15 kb
/// and TelSeq's whole-genome estimates fall well inside 0.5-25 kb; a value outside it comes
/// from targeted or pre-selected reads, not a genome.
pub const PLAUSIBLE_KB: (f64, f64) = (0.5, 25.0);

impl TelomereStage {
    /// Turns the merged counts into tidy rows (the stage's [`ReadStage::finish`]).
    fn rows(&self, mut acc: TelomereAcc, info: &InputInfo, prov: &Provenance) -> Vec<Row> {
        let o = &self.opts;
        let mut rows = Vec::new();
        let read_length = modal_length(&acc.lengths);
        // TelSeq's double-counted last record.
        if o.telseq_compat {
            if let Some((_, group, repeats, gc, len, fl)) = acc.last {
                acc.telseq[group].observe(repeats, gc, len, fl, true);
            }
        }
        let mut sample = TelseqCounts::default();
        for c in &acc.telseq {
            sample.add(c);
        }
        let telseq_method = if o.telseq_compat {
            format!("telseq-compat(k={},TelSeq 0.0.1 -u)", o.k)
        } else {
            format!("telseq(k={})", o.k)
        };
        let mut length_note = String::new();
        if read_length > 0 && !(60..=120).contains(&read_length) {
            length_note = format!(
                "read length {read_length} bp: TelSeq's constant was calibrated on ~100 bp reads; compare samples of one read length only"
            );
        }

        let mut r = Row::new(
            prov,
            ASSAY,
            "reads_total",
            sample.total as f64,
            "reads",
            &telseq_method,
        )
        .with_n(sample.total);
        if sample.total == 0 {
            r.warn("input holds no reads");
        }
        rows.push(r);
        rows.push(
            Row::new(
                prov,
                ASSAY,
                "read_length",
                read_length as f64,
                "bp",
                "mode of primary read lengths",
            )
            .with_n(acc.lengths.iter().sum()),
        );
        let telseq_rows = |c: &TelseqCounts, rg: &str, rows: &mut Vec<Row>| {
            let acc_reads = c.reads_ge(o.k);
            let gc_tel = c.gc_tel();
            let len = if o.telseq_compat {
                telseq::length_kb_compat(&c.tel, o.k, gc_tel)
            } else {
                telseq::length_kb(acc_reads, gc_tel)
            };
            let mut row = Row::new(
                prov,
                ASSAY,
                "telseq_length_kb",
                len.unwrap_or(f64::NAN),
                "kb",
                &telseq_method,
            )
            .with_n(acc_reads)
            .with_read_group(rg);
            match len {
                None => row.fail(
                    "no reads with 48-52% GC (TelSeq's normaliser): length cannot be computed",
                ),
                Some(kb) => {
                    if acc_reads == 0 {
                        row.add_note("no telomeric reads");
                    }
                    if !(PLAUSIBLE_KB.0..=PLAUSIBLE_KB.1).contains(&kb) {
                        row.warn(&format!(
                            "{kb:.1} kb is outside what whole-genome human data give ({}-{} kb): targeted or pre-selected reads, or not a whole genome",
                            PLAUSIBLE_KB.0, PLAUSIBLE_KB.1
                        ));
                    }
                    if gc_tel < MIN_GC_READS {
                        row.warn(&format!(
                            "only {gc_tel} reads with 48-52% GC: estimate imprecise"
                        ));
                    }
                    if !length_note.is_empty() {
                        row.warn(&length_note);
                    }
                }
            }
            rows.push(row);
            rows.push(
                Row::new(
                    prov,
                    ASSAY,
                    "telseq_reads_ge_k",
                    acc_reads as f64,
                    "reads",
                    &telseq_method,
                )
                .with_n(c.total)
                .with_read_group(rg),
            );
            rows.push(
                Row::new(
                    prov,
                    ASSAY,
                    "reads_gc_48_52",
                    gc_tel as f64,
                    "reads",
                    &telseq_method,
                )
                .with_n(c.total)
                .with_read_group(rg),
            );
        };
        telseq_rows(&sample, "", &mut rows);
        for (i, c) in sample.tel.iter().enumerate() {
            let mut row = Row::new(
                prov,
                ASSAY,
                &format!("telseq_tel{i}"),
                *c as f64,
                "reads",
                &telseq_method,
            );
            if i == TEL_BINS - 1 && !o.telseq_compat {
                row.add_note("reads with 16 or more repeats");
            }
            rows.push(row);
        }
        for (i, rg) in info.read_groups.iter().enumerate() {
            let c = &acc.telseq[i];
            let mut rg_rows = Vec::new();
            telseq_rows(c, &rg.id, &mut rg_rows);
            rg_rows.push(
                Row::new(
                    prov,
                    ASSAY,
                    "reads_total",
                    c.total as f64,
                    "reads",
                    &telseq_method,
                )
                .with_read_group(&rg.id),
            );
            rows.extend(rg_rows);
        }

        // TelomereHunter.
        let lengths: Vec<u32> = acc.th_first_lengths.iter().map(|&(_, l)| l).collect();
        let threshold = o
            .th_threshold
            .unwrap_or_else(|| telomerehunter::repeat_threshold(&lengths));
        let bands = Bands::for_build(info.build);
        let band_name = match info.build {
            Build::Grch37 | Build::Hg19 => "hg19",
            Build::Grch38 => "hg38",
            Build::T2tChm13 => "T2T-CHM13v2.0",
            _ => "none",
        };
        let th_method =
            format!(
            "telomerehunter(threshold={threshold},per_100bp={},mapq>={},cytobands={band_name}{})",
            telomerehunter::REPEATS_PER_100_BP,
            telomerehunter::MAPQ_THRESHOLD,
            if o.th_remove_duplicates { ",no_duplicates" } else { "" }
        );
        let mut telomeric: Vec<Candidate> = acc
            .candidates
            .into_iter()
            .filter(|c| c.fwd >= threshold || c.rev >= threshold)
            .collect();
        telomeric.sort_unstable();
        let empty = Bands::default();
        let b = bands.as_ref().unwrap_or(&empty);
        let fractions = telomerehunter::classify(&telomeric, |k| {
            b.place(
                k,
                k.tid
                    .and_then(|t| info.contigs.get(t as usize))
                    .map(|(n, _)| n.as_str()),
            )
        });
        let th_gc: u64 = acc.th_gc[48..=52].iter().sum();
        let mut place_note = String::new();
        if bands.is_none() {
            place_note = if info.build == Build::Unaligned {
                "unaligned reads: every telomeric read counts as intratelomeric".to_string()
            } else {
                "reference build not recognised: no cytobands, every telomeric read counts as intratelomeric".to_string()
            };
        }
        rows.push(Row::new(
            prov,
            ASSAY,
            "th_reads_total",
            acc.th_total as f64,
            "reads",
            &th_method,
        ));
        rows.push(
            Row::new(
                prov,
                ASSAY,
                "th_reads_gc_48_52",
                th_gc as f64,
                "reads",
                &th_method,
            )
            .with_n(acc.th_total),
        );
        let mut thr = Row::new(
            prov,
            ASSAY,
            "th_repeat_threshold",
            f64::from(threshold),
            "repeats_per_read",
            &th_method,
        )
        .with_n(lengths.len() as u64);
        if o.th_threshold.is_some() {
            thr.add_note("threshold set by the user");
        }
        rows.push(thr);
        rows.push(
            Row::new(
                prov,
                ASSAY,
                "th_telomeric_reads",
                telomeric.len() as f64,
                "reads",
                &th_method,
            )
            .with_n(acc.th_total),
        );
        for (measure, v) in [
            ("th_intratelomeric_reads", fractions.intratelomeric),
            ("th_junction_spanning_reads", fractions.junction_spanning),
            ("th_subtelomeric_reads", fractions.subtelomeric),
            ("th_intrachromosomal_reads", fractions.intrachromosomal),
        ] {
            let mut row = Row::new(prov, ASSAY, measure, v as f64, "reads", &th_method)
                .with_n(telomeric.len() as u64);
            row.add_note(&place_note);
            rows.push(row);
        }
        let content = telomerehunter::telomere_content(fractions.intratelomeric, th_gc);
        let mut row = Row::new(
            prov,
            ASSAY,
            "th_telomere_content",
            content.unwrap_or(f64::NAN),
            "intratelomeric_reads_per_million_gc_48_52_reads",
            &th_method,
        )
        .with_n(fractions.intratelomeric);
        match content {
            None => row.fail("no reads with 48-52% GC: telomere content cannot be computed"),
            Some(_) => {
                if th_gc < MIN_GC_READS {
                    row.warn(&format!(
                        "only {th_gc} reads with 48-52% GC: estimate imprecise"
                    ));
                }
                if !place_note.is_empty() {
                    row.warn(&place_note);
                }
            }
        }
        rows.push(row);
        rows
    }
}
