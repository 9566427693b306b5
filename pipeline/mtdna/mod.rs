//! mtDNA copy number from aligned reads.
//!
//! ```text
//! mtDNA-CN = 2 × (chrM mean depth) / (autosomal mean depth)
//! mean depth = covered bases on the contig(s) / contig length(s)
//! ```
//!
//! The factor 2 makes the result copies per diploid nuclear genome: the autosomal depth reflects
//! two copies of each autosome per cell, so each mitochondrial genome counts as one of
//! `2 × chrM/autosomal` copies per cell. Means, not medians, because both depths are sums of the
//! bases reads put down divided by length — the quantity coverage tools (mosdepth) and mtDNA-CN
//! studies (fastMitoCalc, Ding et al. 2015, *PLoS Genet* 11:e1005306; Longchamps et al. 2020,
//! *Sci Rep* 10:13738) use; a median of per-base depth on a 16.6 kb genome tracks the mean
//! closely, while an autosomal median is undefined on sparse or targeted data.
//!
//! Reads: flags `0x4 | 0x100 | 0x200 | 0x400` (1796: unmapped, secondary, QC-fail, duplicate)
//! excluded, MAPQ ≥ `--min-mapq` (default 0), as mosdepth's defaults.
//!
//! Covered bases, two modes:
//! * default: bases of CIGAR M, =, X operations (the bases the read puts down on the reference);
//!   deletions (D) and skips (N) are not counted, as mosdepth's default mode does. Mate overlaps
//!   are **not** corrected (a base covered by both mates counts twice), in chrM and autosomes alike,
//!   so the ratio is unbiased for pairs whose insert size does not depend on the chromosome.
//! * `--mosdepth-compat`: each read covers its whole reference span (start to end, D and N
//!   included), no overlap correction — exactly `mosdepth -x` (fast mode), the mode the benchmark
//!   truth files and most mtDNA-CN studies use.
//!
//! Fast mode (`--mode fast`, fastMitoCalc's idea — Qian et al. 2017, *Bioinformatics* 33:1399):
//! with the index, read chrM fully and only a seeded random sample of autosomal windows; the
//! autosomal mean depth is estimated from the sampled windows (bases clipped to each window), and
//! the sampled fraction is reported.

pub mod fast;

use crate::{
    core::{build::chromosome_number, Provenance},
    reads::{view::cigar, view::flags, InputInfo, ReadError, ReadStage, ReadView},
    tidy::Row,
};

/// Assay name in tidy rows.
pub const ASSAY: &str = "mtdna";
/// Output suffix: `<prefix>.mtdna.tsv` / `.parquet`.
pub const SUFFIX: &str = "mtdna";
/// Flags excluded by default (mosdepth's default).
pub const DEFAULT_EXCLUDE_FLAGS: u16 =
    flags::UNMAPPED | flags::SECONDARY | flags::QC_FAIL | flags::DUPLICATE;
/// rCRS length.
pub const RCRS_LENGTH: usize = 16_569;
/// hg19 chrM length.
pub const HG19_CHRM_LENGTH: usize = 16_571;

/// Options of the mtDNA stage.
#[derive(Clone, Debug)]
pub struct MtdnaOptions {
    /// Count whole reference spans (`mosdepth -x`).
    pub mosdepth_compat: bool,
    /// Minimum MAPQ.
    pub min_mapq: u8,
    /// Excluded flags.
    pub exclude_flags: u16,
    /// Also report per read group.
    pub per_read_group: bool,
}

impl Default for MtdnaOptions {
    fn default() -> Self {
        MtdnaOptions {
            mosdepth_compat: false,
            min_mapq: 0,
            exclude_flags: DEFAULT_EXCLUDE_FLAGS,
            per_read_group: false,
        }
    }
}

impl MtdnaOptions {
    /// The `method` column.
    pub fn method(&self, mode: &str) -> String {
        format!(
            "{}({mode};exclude_flags={};mapq>={})",
            if self.mosdepth_compat {
                "mosdepth-x-span"
            } else {
                "aligned-bases-M=X"
            },
            self.exclude_flags,
            self.min_mapq
        )
    }

    /// Whether a read passes the flag and MAPQ filters.
    #[inline]
    pub fn keeps(&self, flags: u16, mapq: u8) -> bool {
        flags & self.exclude_flags == 0 && mapq >= self.min_mapq
    }
}

/// Bases a read covers within `[lo, hi)` (0-based), by the chosen rule.
#[inline]
pub fn covered_bases(
    cig: &[crate::reads::view::CigarOp],
    pos: u64,
    compat: bool,
    lo: u64,
    hi: u64,
) -> u64 {
    let clip = |s: u64, e: u64| e.min(hi).saturating_sub(s.max(lo));
    if compat {
        return clip(pos, pos + crate::reads::view::reference_span(cig));
    }
    let mut p = pos;
    let mut total = 0;
    for op in cig {
        let len = u64::from(op.len);
        match op.kind {
            cigar::M | cigar::EQ | cigar::X => {
                total += clip(p, p + len);
                p += len;
            }
            cigar::D | cigar::N => p += len,
            _ => {}
        }
    }
    total
}

/// Which contigs count, from the header.
#[derive(Clone, Debug)]
pub struct ContigPlan {
    /// Per contig: 1 = autosome, 2 = mitochondrion, 0 = neither.
    pub class: Vec<u8>,
    /// Contig lengths.
    pub lengths: Vec<u64>,
    /// Index of the mitochondrial contig.
    pub mito: usize,
    /// Its name.
    pub mito_name: String,
    /// Sum of autosome lengths.
    pub autosome_length: u64,
    /// Length of chrX (0: not in the header).
    pub x_length: u64,
    /// Length of chrY (0: not in the header).
    pub y_length: u64,
    /// Notes about naming (hg19 chrM, several mitochondrial contigs).
    pub notes: Vec<String>,
}

impl ContigPlan {
    /// Recognises chrM and the autosomes; errors when either is missing.
    pub fn from_info(path: &str, info: &InputInfo) -> Result<ContigPlan, ReadError> {
        let mut class = Vec::with_capacity(info.contigs.len());
        let mut lengths = Vec::with_capacity(info.contigs.len());
        let mut mito = None;
        let mut notes = Vec::new();
        let mut autosome_length = 0;
        let (mut x_length, mut y_length) = (0u64, 0u64);
        for (i, (name, len)) in info.contigs.iter().enumerate() {
            lengths.push(*len as u64);
            match chromosome_number(name) {
                Some(1..=22) => {
                    class.push(1);
                    autosome_length += *len as u64;
                }
                Some(25) if mito.is_none() => {
                    class.push(2);
                    mito = Some(i);
                }
                Some(25) => {
                    class.push(0);
                    notes.push(format!(
                        "a second mitochondrial contig '{name}' was ignored"
                    ));
                }
                Some(23) => {
                    class.push(3);
                    x_length += *len as u64;
                }
                Some(24) => {
                    class.push(4);
                    y_length += *len as u64;
                }
                _ => class.push(0),
            }
        }
        if info.contigs.is_empty() {
            return Err(ReadError::file(path, "no reference sequences in the header (unaligned reads?): mtDNA copy number needs aligned reads"));
        }
        let Some(mito) = mito else {
            return Err(ReadError::file(
                path,
                "no mitochondrial contig in the header (looked for chrM, MT, chrMT, NC_012920.1 …): cannot compute mtDNA copy number",
            ));
        };
        if autosome_length == 0 {
            return Err(ReadError::file(
                path,
                "no autosomes in the header (looked for 1-22, chr1-chr22, NC_0000xx …): cannot compute mtDNA copy number",
            ));
        }
        let mito_name = info.contigs[mito].0.clone();
        match info.contigs[mito].1 {
            RCRS_LENGTH => {}
            HG19_CHRM_LENGTH => notes.push(format!(
                "{mito_name} is 16,571 bp: hg19's chrM, not the rCRS (16,569 bp); computed anyway, compare only with samples aligned to the same reference"
            )),
            other => notes.push(format!("{mito_name} is {other} bp, not the rCRS's 16,569 bp")),
        }
        let n = autosomes_present(&class);
        if n < 22 {
            notes.push(format!("only {n} of 22 autosomes in the header"));
        }
        Ok(ContigPlan {
            class,
            lengths,
            mito,
            mito_name,
            autosome_length,
            x_length,
            y_length,
            notes,
        })
    }
}

fn autosomes_present(class: &[u8]) -> usize {
    class.iter().filter(|&&c| c == 1).count()
}

/// Counts for one group of reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DepthCounts {
    /// Covered bases on chrM.
    pub mito_bases: u64,
    /// Reads on chrM passing the filters.
    pub mito_reads: u64,
    /// Covered bases on the autosomes.
    pub autosomal_bases: u64,
    /// Reads on the autosomes passing the filters.
    pub autosomal_reads: u64,
    /// Covered bases on chrX.
    pub x_bases: u64,
    /// Covered bases on chrY.
    pub y_bases: u64,
}

impl DepthCounts {
    fn add(&mut self, o: &DepthCounts) {
        self.mito_bases += o.mito_bases;
        self.mito_reads += o.mito_reads;
        self.autosomal_bases += o.autosomal_bases;
        self.autosomal_reads += o.autosomal_reads;
        self.x_bases += o.x_bases;
        self.y_bases += o.y_bases;
    }
}

/// The mtDNA read stage (full mode).
pub struct MtdnaStage {
    opts: MtdnaOptions,
    plan: ContigPlan,
    read_groups: usize,
}

impl MtdnaStage {
    /// A stage for an input whose header gave `plan`.
    pub fn new(opts: MtdnaOptions, plan: ContigPlan, read_groups: usize) -> Self {
        MtdnaStage {
            opts,
            plan,
            read_groups,
        }
    }
}

impl ReadStage for MtdnaStage {
    /// Per read group (header order) and a last slot for reads without one.
    type Acc = Vec<DepthCounts>;

    fn finish(&self, acc: Vec<DepthCounts>, info: &InputInfo, prov: &Provenance) -> Vec<Row> {
        self.rows(acc, info, prov)
    }

    fn accumulator(&self) -> Vec<DepthCounts> {
        vec![DepthCounts::default(); self.read_groups + 1]
    }

    fn observe(&self, acc: &mut Vec<DepthCounts>, reads: &[ReadView<'_>]) {
        for r in reads {
            let (Some(tid), Some(pos)) = (r.tid, r.pos) else {
                continue;
            };
            let class = self.plan.class.get(tid).copied().unwrap_or(0);
            if class == 0 || !self.opts.keeps(r.flags, r.mapq) {
                continue;
            }
            let bases = covered_bases(
                r.cigar,
                pos,
                self.opts.mosdepth_compat,
                0,
                self.plan.lengths[tid],
            );
            let g = &mut acc[r
                .read_group
                .unwrap_or(self.read_groups)
                .min(self.read_groups)];
            match class {
                2 => {
                    g.mito_bases += bases;
                    g.mito_reads += 1;
                }
                3 => g.x_bases += bases,
                4 => g.y_bases += bases,
                _ => {
                    g.autosomal_bases += bases;
                    g.autosomal_reads += 1;
                }
            }
        }
    }

    /// Only positions and CIGARs are read.
    fn needs_codes(&self) -> bool {
        false
    }

    fn merge(&self, into: &mut Vec<DepthCounts>, from: Vec<DepthCounts>) {
        for (a, b) in into.iter_mut().zip(from.iter()) {
            a.add(b);
        }
    }
}

/// Autosomal sampling of fast mode, for the rows.
#[derive(Clone, Copy, Debug)]
pub struct Sampling {
    /// Autosomal bases inside the sampled windows.
    pub sampled_length: u64,
}

/// Tidy rows for one group of counts.
pub fn rows_for(
    c: &DepthCounts,
    plan: &ContigPlan,
    sampling: Option<Sampling>,
    method: &str,
    prov: &Provenance,
    read_group: &str,
) -> Vec<Row> {
    let auto_len = sampling.map_or(plan.autosome_length, |s| s.sampled_length);
    let mito_len = plan.lengths[plan.mito];
    let mito_depth = c.mito_bases as f64 / mito_len as f64;
    let auto_depth = if auto_len > 0 {
        c.autosomal_bases as f64 / auto_len as f64
    } else {
        0.0
    };
    let cn = if c.autosomal_bases > 0 {
        2.0 * mito_depth / auto_depth
    } else {
        0.0
    };
    let mut rows = Vec::new();
    let mut cn_row = Row::new(
        prov,
        ASSAY,
        "mtdna_cn",
        cn,
        "copies_per_diploid_genome",
        method,
    )
    .with_n(c.mito_reads + c.autosomal_reads)
    .with_read_group(read_group);
    if c.autosomal_bases == 0 {
        cn_row.fail("no autosomal reads pass the filters: autosomal depth is 0");
    } else if c.mito_reads == 0 {
        cn_row.warn(&format!("no reads on {} pass the filters", plan.mito_name));
    }
    for note in &plan.notes {
        cn_row.warn(note);
    }
    if let Some(s) = sampling {
        cn_row.add_note(&format!(
            "fast mode: autosomal depth from {:.4}% of autosomal bases",
            100.0 * s.sampled_length as f64 / plan.autosome_length as f64
        ));
    }
    rows.push(cn_row);
    let mut m = Row::new(prov, ASSAY, "chrM_mean_depth", mito_depth, "x", method)
        .with_n(c.mito_reads)
        .with_read_group(read_group);
    if c.mito_reads == 0 {
        m.warn(&format!("no reads on {} pass the filters", plan.mito_name));
    }
    rows.push(m);
    let mut a = Row::new(prov, ASSAY, "autosomal_mean_depth", auto_depth, "x", method)
        .with_n(c.autosomal_reads)
        .with_read_group(read_group);
    if c.autosomal_bases == 0 {
        a.warn("no autosomal reads pass the filters");
        a.value = Some(0.0);
    }
    rows.push(a);
    rows.push(
        Row::new(
            prov,
            ASSAY,
            "chrM_reads",
            c.mito_reads as f64,
            "reads",
            method,
        )
        .with_read_group(read_group),
    );
    rows.push(
        Row::new(
            prov,
            ASSAY,
            "chrM_bases",
            c.mito_bases as f64,
            "bases",
            method,
        )
        .with_read_group(read_group),
    );
    rows.push(
        Row::new(
            prov,
            ASSAY,
            "autosomal_bases",
            c.autosomal_bases as f64,
            "bases",
            method,
        )
        .with_read_group(read_group),
    );
    rows.push(
        Row::new(
            prov,
            ASSAY,
            "autosomal_reads",
            c.autosomal_reads as f64,
            "reads",
            method,
        )
        .with_read_group(read_group),
    );
    if let Some(s) = sampling {
        rows.push(
            Row::new(
                prov,
                ASSAY,
                "autosomal_sampled_fraction",
                s.sampled_length as f64 / plan.autosome_length as f64,
                "fraction",
                method,
            )
            .with_n(s.sampled_length),
        );
    }
    rows
}

impl MtdnaStage {
    /// Turns merged counts into tidy rows: sample level, then per read group when asked (the
    /// stage's [`ReadStage::finish`]).
    fn rows(&self, acc: Vec<DepthCounts>, info: &InputInfo, prov: &Provenance) -> Vec<Row> {
        let method = self.opts.method("full");
        let mut sample = DepthCounts::default();
        for c in &acc {
            sample.add(c);
        }
        let mut rows = rows_for(&sample, &self.plan, None, &method, prov, "");
        rows.extend(sex_rows(&sample, &self.plan, prov));
        if self.opts.per_read_group {
            for (i, rg) in info.read_groups.iter().enumerate() {
                rows.extend(rows_for(&acc[i], &self.plan, None, &method, prov, &rg.id));
            }
        }
        rows
    }
}

/// chrX or chrY depth over autosomal depth below which a sample counts as having one X, or
/// above which it has a Y (agemark's cut-offs for a read-depth sex check: one X gives 0.5, two
/// give 1; chrY reads of a female are mismapped ones, a few percent at most).
pub const ONE_X_BELOW: f64 = 0.75;
/// See [`ONE_X_BELOW`].
pub const Y_PRESENT_ABOVE: f64 = 0.1;
/// See [`ONE_X_BELOW`]: below this chrY ratio there is no Y.
pub const Y_ABSENT_BELOW: f64 = 0.05;

/// Sex from read depth (sample level, full mode; only when the header has chrX and chrY and
/// autosomal reads pass the filters):
/// `chrX_autosome_depth_ratio` = (chrX bases / chrX length) / (autosomal bases / autosome
/// length), the same for chrY, and `inferred_sex_male` (1 = one X and a Y, 0 = two X and no
/// Y; anything else is not called, `warn`).
pub fn sex_rows(c: &DepthCounts, plan: &ContigPlan, prov: &Provenance) -> Vec<Row> {
    if plan.x_length == 0 || plan.y_length == 0 {
        return Vec::new();
    }
    let method = format!(
        "read_depth(chrX<{ONE_X_BELOW}_and_chrY>{Y_PRESENT_ABOVE}=male;chrX>={ONE_X_BELOW}_and_chrY<{Y_ABSENT_BELOW}=female)"
    );
    let row = |measure: &str, value: f64, unit: &str| {
        Row::new(prov, ASSAY, measure, value, unit, &method)
    };
    // No autosomal depth: the mtdna_cn row already fails saying so; no sex rows.
    if c.autosomal_bases == 0 {
        return Vec::new();
    }
    let auto = c.autosomal_bases as f64 / plan.autosome_length as f64;
    let ratio = |bases: u64, len: u64| (bases as f64 / len as f64) / auto;
    let (rx, ry) = (
        ratio(c.x_bases, plan.x_length),
        ratio(c.y_bases, plan.y_length),
    );
    let call = if rx < ONE_X_BELOW && ry > Y_PRESENT_ABOVE {
        Some(true)
    } else if rx >= ONE_X_BELOW && ry < Y_ABSENT_BELOW {
        Some(false)
    } else {
        None
    };
    let mut sex = Row::empty(prov, ASSAY, "inferred_sex_male", "indicator", &method);
    match call {
        Some(male) => {
            sex.value = Some(if male { 1.0 } else { 0.0 });
            sex.add_note(&format!(
                "{}; chrX/autosomes {rx:.3}, chrY/autosomes {ry:.3}",
                if male { "male" } else { "female" }
            ));
        }
        None => {
            sex.warn(&format!(
                "not called: chrX/autosomes {rx:.3}, chrY/autosomes {ry:.3} fit neither XX nor XY (sparse or targeted data, a sex-chromosome aneuploidy, or a mixture)"
            ));
        }
    }
    vec![
        row("chrX_autosome_depth_ratio", rx, "ratio"),
        row("chrY_autosome_depth_ratio", ry, "ratio"),
        sex,
    ]
}

/// Rows for an input that cannot give mtDNA copy number (FASTQ, no chrM, no autosomes): every
/// measure present, empty, failed with the reason — so a combined `reads` run keeps fixed outputs.
pub fn failed_rows(prov: &Provenance, method: &str, why: &str) -> Vec<Row> {
    [
        "mtdna_cn",
        "chrM_mean_depth",
        "autosomal_mean_depth",
        "chrM_reads",
        "chrM_bases",
        "autosomal_bases",
        "autosomal_reads",
    ]
    .iter()
    .map(|m| {
        let mut r = Row::new(prov, ASSAY, m, 0.0, "", method);
        r.fail(why);
        r
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reads::view::CigarOp;

    fn ops(s: &[(u8, u32)]) -> Vec<CigarOp> {
        s.iter().map(|&(kind, len)| CigarOp { kind, len }).collect()
    }

    #[test]
    fn covered_bases_by_rule() {
        // 10M 5D 10M 3I 2S
        let c = ops(&[
            (cigar::M, 10),
            (cigar::D, 5),
            (cigar::M, 10),
            (cigar::I, 3),
            (cigar::S, 2),
        ]);
        assert_eq!(covered_bases(&c, 100, false, 0, u64::MAX), 20);
        assert_eq!(covered_bases(&c, 100, true, 0, u64::MAX), 25);
        // Clipped to a window [105, 118): M 105..110 (5) + M 115..118 (3).
        assert_eq!(covered_bases(&c, 100, false, 105, 118), 8);
        assert_eq!(covered_bases(&c, 100, true, 105, 118), 13);
        // Contig end clips.
        assert_eq!(
            covered_bases(&ops(&[(cigar::M, 50)]), 16_550, true, 0, 16_569),
            19
        );
        assert_eq!(
            covered_bases(
                &ops(&[
                    (cigar::EQ, 5),
                    (cigar::X, 1),
                    (cigar::N, 100),
                    (cigar::EQ, 4)
                ]),
                0,
                false,
                0,
                u64::MAX
            ),
            10
        );
    }

    #[test]
    fn filters_follow_mosdepth_defaults() {
        let o = MtdnaOptions::default();
        assert!(o.keeps(0x1 | 0x2 | 0x40, 0));
        assert!(!o.keeps(0x400, 60));
        assert!(!o.keeps(0x100, 60));
        assert!(!o.keeps(0x200, 60));
        assert!(!o.keeps(0x4, 60));
        assert!(o.keeps(0x800, 60)); // supplementary counts, as in mosdepth
        let q = MtdnaOptions {
            min_mapq: 20,
            ..MtdnaOptions::default()
        };
        assert!(!q.keeps(0, 19));
        assert!(q.keeps(0, 20));
    }
}
