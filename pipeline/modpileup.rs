//! 5mC at CpG sites from base-modification tags (`MM`/`ML`, decoded by
//! [`crate::reads::modbam`]): the pileup behind `agemark pileup` and behind modBAM inputs to
//! clocks, cell types and NR3C1 (issue 16).
//!
//! ## What is counted (modkit's bedMethyl definitions)
//! A CpG site is the C of a reference `CG` on either strand: the + strand C at 0-based `p`
//! where the reference reads `CG` at `p, p+1`, and the − strand C at `p+1`. Only the reference
//! says where CpGs are (`--reference`); a read's own bases never make a site. Every primary,
//! mapped read (not secondary, supplementary or QC-failed) whose alignment covers a site adds
//! exactly one of:
//!
//! * **diff**: the read has another base there (on the site's strand: `C` for +, `G` in `SEQ`
//!   for −), or `N`;
//! * **delete**: the read has a deletion over the site;
//! * **nocall**: the read has the C but no call for it: its `MM` has no `C` set for that strand,
//!   or the set is explicit (`?`) and skips this C;
//! * **fail**: the call's most likely state has a probability below the threshold;
//! * otherwise a **valid** call of its most likely state: 5mC (`m`, ChEBI 27551), 5hmC (`h`,
//!   ChEBI 76792), another modification, or canonical. In an implicit set (`.`, the default) a C
//!   the skips pass over is a canonical call that always passes.
//!
//! A call's state probabilities are each listed code's `(ML + 0.5) / 256` and canonical
//! `1 − Σ`; ties go to canonical, then 5mC, 5hmC, other. A read's `C+` sets call the C's of the
//! strand it maps to; its `G-` sets (duplex reads, the spec's "bottom strand" calls) call the
//! C's of the other strand, paired with the read's G's. Sets of other bases (6mA, …) and
//! `C-`/`G+` sets do not call a C and are not counted.
//!
//! ## The threshold
//! `--mod-threshold P` keeps calls whose most likely state has probability ≥ `P` (0 keeps every
//! call, modkit's `--no-filtering`). Without it the threshold is estimated as modkit does, as
//! the 10th percentile of the calls' most-likely-state probabilities, here over **all** calls
//! of the input (a first pass over the reads; modkit samples about 10,000 reads), so the value
//! does not depend on sampling or on `--threads`. Implicit canonical calls, which have no
//! probability, are not in the estimate.
//!
//! ## bedMethyl rows
//! One row per site, strand and code (`m`, and `h` where any read calls 5hmC there) with at
//! least one valid call, in modkit's 18 tab-separated columns: chrom, start, end (start + 1),
//! code, score (= N_valid_cov), strand, start, end, colour `255,0,0`, N_valid_cov, percent
//! modified (2 decimals), N_mod, N_canonical, N_other_mod, N_delete, N_fail, N_diff,
//! N_nocall. N_valid_cov = N_mod + N_other_mod + N_canonical, so 5hmC is never folded into
//! 5mC: for the `m` row it counts as "other". `--combine-strands` sums the − strand C into the
//! row of the + strand C of the same CpG, with strand `.`. Rows are sorted by contig (header
//! order) and position.
//!
//! ## Memory and sorting
//! Counts are kept in blocks of 4,096 CpG strands by their rank on the reference (36 bytes
//! each), allocated when a read first touches them, so the input need not be sorted or
//! indexed: a 30× human genome (about 56 million CpG strands) needs about 2 GB per worker
//! thread. The reference is held as one bit per base plus a 32-bit rank per 64 bases (about
//! 580 MB for GRCh38).
//!
//! References: SAM optional fields specification §1.7 (hts-specs, `MM`/`ML`); Oxford Nanopore
//! Technologies, modkit documentation, "bedMethyl output" and "filtering" (github.com/nanoporetech/modkit).

use std::{
    collections::HashMap,
    io::{self, BufRead, BufReader, Write},
    path::Path,
};

use crate::{
    core::{error::Category, hash::FastMap, thousands},
    reads::{
        self,
        modbam::{self, ModCode, Mode},
        view::{cigar, flags},
        ErasedStage, InputSpec, ReadError, ReadStage, ReadView,
    },
};

/// The percentile of call confidences used as the estimated threshold (modkit's default).
pub const FILTER_PERCENTILE: f64 = 0.1;

/// How calls are filtered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// Keep calls whose most likely state has at least this probability (0: every call).
    Fixed(f64),
    /// Estimate it from the input's calls (the [`FILTER_PERCENTILE`] quantile).
    Estimated,
}

/// Pileup options.
#[derive(Clone, Debug)]
pub struct PileupOptions {
    /// The reference FASTA (plain or gzip) with the contigs of the reads' header.
    pub reference: std::path::PathBuf,
    /// The call threshold.
    pub threshold: Threshold,
    /// Sum the two C's of a CpG into one row (strand `.`).
    pub combine_strands: bool,
}

/// Where the reference has CpGs: one bit per base, set at the C of each `CG` (+ strand).
#[derive(Clone, Debug, Default)]
pub struct CpgSites {
    /// Per contig of the reads' header: the bits, or `None` when the reference lacks it.
    contigs: Vec<Option<Vec<u64>>>,
    /// Per contig: CpGs before each 64-bit word, counted over all contigs (the rank of a
    /// word's first CpG), so every CpG has a dense index for the counters.
    ranks: Vec<Vec<u32>>,
    /// Contigs of the header found in the reference.
    pub matched: usize,
    /// CpGs found on those contigs.
    pub cpgs: u64,
}

impl CpgSites {
    /// The dense index of the CpG starting at `pos` of `tid` (which must be one).
    #[inline]
    fn rank(&self, tid: usize, pos: u64) -> u64 {
        let w = (pos >> 6) as usize;
        let word = match &self.contigs[tid] {
            Some(bits) => bits[w],
            None => 0,
        };
        u64::from(self.ranks[tid][w]) + u64::from((word & ((1u64 << (pos & 63)) - 1)).count_ones())
    }

    /// The dense counter index (`2 × rank + strand`) of the CpG-strand site whose C is at
    /// reference base `ri` on the + strand (`minus` false: a `CG` starts at `ri`) or the −
    /// strand (a `CG` starts at `ri − 1`); `None` when there is none.
    #[inline]
    fn site_index(&self, tid: usize, ri: u64, minus: bool) -> Option<u64> {
        let cpg = if minus { ri.checked_sub(1)? } else { ri };
        self.is_cpg(tid, cpg)
            .then(|| 2 * self.rank(tid, cpg) + u64::from(minus))
    }

    /// Fills the ranks once all contigs are read.
    fn index(&mut self) {
        let mut total = 0u32;
        self.ranks = self
            .contigs
            .iter()
            .map(|c| match c {
                Some(bits) => bits
                    .iter()
                    .map(|w| {
                        let r = total;
                        total += w.count_ones();
                        r
                    })
                    .collect(),
                None => Vec::new(),
            })
            .collect();
    }

    /// Whether the reference has a `CG` starting at `pos` of contig `tid`.
    #[inline]
    pub fn is_cpg(&self, tid: usize, pos: u64) -> bool {
        match self.contigs.get(tid) {
            Some(Some(bits)) => bits
                .get((pos >> 6) as usize)
                .is_some_and(|w| w >> (pos & 63) & 1 == 1),
            _ => false,
        }
    }

    /// Reads the CpGs of `reference` for the contigs of a reads header (name and length);
    /// a contig whose length differs is refused (another assembly).
    pub fn from_fasta(reference: &Path, contigs: &[(String, usize)]) -> Result<Self, ReadError> {
        let label = reference.display().to_string();
        let file = std::fs::File::open(reference).map_err(|e| {
            ReadError::file(&label, format!("cannot open the reference: {e}"))
                .with_category(Category::InputMissing)
        })?;
        let mut raw = BufReader::with_capacity(1 << 20, file);
        let gzip = raw
            .fill_buf()
            .map_err(|e| ReadError::io(&label, None, &e))?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::read::MultiGzDecoder::new(raw),
            ))
        } else {
            Box::new(raw)
        };
        let index: HashMap<&str, usize> = contigs
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        let mut sites = CpgSites {
            contigs: vec![None; contigs.len()],
            ..Default::default()
        };
        // The contig being read: its header index, bits, length so far, previous base.
        let mut current: Option<(usize, Vec<u64>, u64, u8)> = None;
        let finish = |cur: Option<(usize, Vec<u64>, u64, u8)>,
                      sites: &mut CpgSites|
         -> Result<(), ReadError> {
            if let Some((tid, bits, len, _)) = cur {
                let (name, want) = &contigs[tid];
                if len != *want as u64 {
                    return Err(ReadError::file(
                        &label,
                        format!(
                            "contig {name} is {} bases in the reference but {} in the reads' header: another assembly?",
                            thousands(len),
                            thousands(*want as u64)
                        ),
                    )
                    .with_category(Category::ReferenceMismatch));
                }
                sites.cpgs += bits.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
                sites.contigs[tid] = Some(bits);
                sites.matched += 1;
            }
            Ok(())
        };
        let mut line = Vec::new();
        let mut reader = reader;
        let mut seen_header = false;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| ReadError::io(&label, None, &e))?;
            if n == 0 {
                break;
            }
            let l = line.strip_suffix(b"\n").unwrap_or(&line);
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            if let Some(h) = l.strip_prefix(b">") {
                seen_header = true;
                finish(current.take(), &mut sites)?;
                let name = String::from_utf8_lossy(h);
                let name = name.split_ascii_whitespace().next().unwrap_or("");
                current = index.get(name).map(|&tid| {
                    let words = contigs[tid].1.div_ceil(64);
                    (tid, vec![0u64; words], 0u64, 0u8)
                });
                continue;
            }
            if !seen_header && !l.is_empty() {
                return Err(ReadError::file(
                    &label,
                    "not a FASTA file (the first line is not a '>' header)",
                )
                .with_category(Category::InputFormat));
            }
            if let Some((_, bits, len, prev)) = current.as_mut() {
                for &b in l {
                    let b = b.to_ascii_uppercase();
                    if b == b'G' && *prev == b'C' {
                        let p = *len - 1;
                        if let Some(w) = bits.get_mut((p >> 6) as usize) {
                            *w |= 1 << (p & 63);
                        }
                    }
                    *prev = b;
                    *len += 1;
                }
            }
        }
        finish(current.take(), &mut sites)?;
        sites.index();
        if !seen_header {
            return Err(
                ReadError::file(&label, "the reference FASTA has no sequences")
                    .with_category(Category::InputFormat),
            );
        }
        if sites.matched == 0 && !contigs.is_empty() {
            return Err(ReadError::file(
                &label,
                format!(
                    "the reference shares no contig name with the reads' header (the reads name e.g. '{}'): the wrong reference, or another naming (chr1 vs 1)?",
                    contigs[0].0
                ),
            )
            .with_category(Category::ReferenceMismatch));
        }
        Ok(sites)
    }
}

/// Counts at one site strand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SiteCounts {
    /// Valid 5mC calls.
    pub m: u32,
    /// Valid 5hmC calls.
    pub h: u32,
    /// Valid calls of another modification.
    pub other: u32,
    /// Valid canonical calls.
    pub canonical: u32,
    /// Calls below the threshold.
    pub fail: u32,
    /// Reads with a deletion here.
    pub delete: u32,
    /// Reads with another base here.
    pub diff: u32,
    /// Reads with the C but no call.
    pub nocall: u32,
    /// Whether some read here calls 5hmC (so an `h` row is written).
    pub has_h: bool,
}

impl SiteCounts {
    /// Valid calls: 5mC + 5hmC + other + canonical.
    pub fn valid(&self) -> u32 {
        self.m + self.h + self.other + self.canonical
    }

    fn add(&mut self, o: &SiteCounts) {
        self.m += o.m;
        self.h += o.h;
        self.other += o.other;
        self.canonical += o.canonical;
        self.fail += o.fail;
        self.delete += o.delete;
        self.diff += o.diff;
        self.nocall += o.nocall;
        self.has_h |= o.has_h;
    }
}

/// What the pass saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PileupStats {
    /// Records read.
    pub records: u64,
    /// Primary mapped reads used.
    pub reads: u64,
    /// Of those, reads with base-modification tags.
    pub reads_with_tags: u64,
    /// Calls on CpG C's with a probability (explicit `ML` calls).
    pub calls: u64,
    /// The threshold applied (probability).
    pub threshold: f64,
    /// Whether it was estimated from the input.
    pub estimated: bool,
}

/// A finished pileup: the counted sites, sorted.
#[derive(Clone, Debug)]
pub struct Pileup {
    /// Contig names and lengths (the reads' header).
    pub contigs: Vec<(String, usize)>,
    /// `(tid, 0-based position, strand '+'/'-'/'.', counts)`, sorted; sites with no valid call
    /// are left out.
    pub sites: Vec<(usize, u64, u8, SiteCounts)>,
    /// What the pass saw.
    pub stats: PileupStats,
    /// The reads' header's build (as the reads engine recognised it).
    pub build: crate::core::build::Build,
}

/// One read's calls at CpG C's, reusable buffers.
#[derive(Default)]
struct ReadScratch {
    ascii: Vec<u8>,
    codes: Vec<u8>,
    /// Per `SEQ` position: index + 1 of its first call in `calls` (0: none).
    first: Vec<u32>,
}

/// Per-worker state of both stages.
#[derive(Default)]
pub struct PileupAcc {
    /// Counters by block of [`BLOCK_SITES`] CpG strands (dense index `2 × rank + strand`):
    /// reads touch consecutive CpGs, so their writes stay in one block, in order.
    blocks: FastMap<u64, Box<[SiteCounts]>>,
    /// Histogram of the calls' most-likely-state probabilities, in 1/256 bins.
    hist: Vec<u64>,
    reads: u64,
    reads_with_tags: u64,
    calls: u64,
    /// The first malformed record (record number, message).
    error: Option<(u64, String)>,
}

/// CpG strands per counter block.
const BLOCK_SITES: u64 = 4096;

impl PileupAcc {
    /// The counters of dense site index `i`.
    #[inline]
    fn at(blocks: &mut FastMap<u64, Box<[SiteCounts]>>, i: u64) -> &mut SiteCounts {
        let b = blocks.entry(i / BLOCK_SITES).or_insert_with(|| {
            vec![SiteCounts::default(); BLOCK_SITES as usize].into_boxed_slice()
        });
        &mut b[(i % BLOCK_SITES) as usize]
    }
}

/// The pileup stage: with `count` false it only fills the confidence histogram (the first pass
/// of an estimated threshold).
pub struct PileupStage<'a> {
    sites: &'a CpgSites,
    /// The smallest passing probability (0: all pass).
    threshold: f64,
    count: bool,
}

/// The state of one call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    M,
    H,
    Other,
}

fn code_state(c: ModCode) -> State {
    match c {
        ModCode::Letter(b'm') | ModCode::Chebi(27551) => State::M,
        ModCode::Letter(b'h') | ModCode::Chebi(76792) => State::H,
        _ => State::Other,
    }
}

impl PileupStage<'_> {
    fn read(&self, acc: &mut PileupAcc, r: &ReadView<'_>, s: &mut ReadScratch) {
        if r.flags & (flags::UNMAPPED | flags::SECONDARY | flags::SUPPLEMENTARY | flags::QC_FAIL)
            != 0
        {
            return;
        }
        let (Some(tid), Some(start)) = (r.tid, r.pos) else {
            return;
        };
        acc.reads += 1;
        let reverse = r.flags & 0x10 != 0;
        let codes = r.codes(&mut s.codes).to_vec();
        let n = codes.len();
        // Calls of C sets, with the strand of the C they call (false: +).
        let mut calls: Vec<(usize, bool, State, f64)> = Vec::new();
        // Per strand: whether a C set covers it, and whether it is implicit.
        let mut covered = [false; 2];
        let mut implicit = [false; 2];
        if !r.mm.is_empty() {
            acc.reads_with_tags += 1;
            s.ascii.clear();
            s.ascii.extend(codes.iter().map(|&c| b"ACGTN"[c as usize]));
            let (sets, decoded) = match modbam::decode(&s.ascii, reverse, r.mm, r.ml) {
                Ok(x) => x,
                Err(e) => {
                    if acc.error.as_ref().is_none_or(|(k, _)| r.record < *k) {
                        let name = String::from_utf8_lossy(r.name);
                        acc.error = Some((r.record, format!("read {name}: {e}")));
                    }
                    return;
                }
            };
            let minus_of: Vec<Option<bool>> = sets
                .iter()
                .map(|set| match (set.base, set.strand) {
                    // The read's own C's: on the strand the read maps to.
                    (b'C', b'+') => Some(reverse),
                    // The C's paired with the read's G's: on the other strand.
                    (b'G', b'-') => Some(!reverse),
                    _ => None,
                })
                .collect();
            for (set, m) in sets.iter().zip(&minus_of) {
                if let Some(m) = *m {
                    covered[usize::from(m)] = true;
                    implicit[usize::from(m)] |= set.mode == Mode::Implicit;
                }
            }
            for c in &decoded {
                if let Some(minus) = minus_of[c.set] {
                    calls.push((
                        c.pos,
                        minus,
                        code_state(c.code),
                        (f64::from(c.prob) + 0.5) / 256.0,
                    ));
                }
            }
            calls.sort_by_key(|c| (c.0, c.1));
        }
        s.first.clear();
        s.first.resize(n, 0);
        for (i, c) in calls.iter().enumerate().rev() {
            s.first[c.0] = i as u32 + 1;
        }
        // Without a C set, the read's own strand is the one whose C's it has but did not call.
        if !covered[0] && !covered[1] {
            covered[usize::from(reverse)] = true;
        }
        let (mut q, mut rpos) = (0usize, start);
        for op in r.cigar {
            let len = op.len as u64;
            match op.kind {
                cigar::M | cigar::EQ | cigar::X => {
                    for k in 0..len {
                        let (qi, ri) = (q + k as usize, rpos + k);
                        if qi >= n {
                            break;
                        }
                        for minus in [false, true] {
                            if !covered[usize::from(minus)] {
                                continue;
                            }
                            let Some(site) = self.sites.site_index(tid, ri, minus) else {
                                continue;
                            };
                            let want = if minus { 2 } else { 1 }; // G or C in SEQ
                            let mut here = SiteCounts::default();
                            if codes[qi] != want {
                                here.diff = 1;
                            } else {
                                // The calls of this position and strand.
                                let mut probs = [0.0f64; 4]; // canonical, m, h, other
                                let mut any = false;
                                let mut has_h = false;
                                let f = s.first[qi] as usize;
                                if f > 0 {
                                    for c in calls[f - 1..].iter().take_while(|c| c.0 == qi) {
                                        if c.1 != minus {
                                            continue;
                                        }
                                        any = true;
                                        let slot = match c.2 {
                                            State::M => 1,
                                            State::H => {
                                                has_h = true;
                                                2
                                            }
                                            State::Other => 3,
                                        };
                                        probs[slot] = probs[slot].max(c.3);
                                    }
                                }
                                if any {
                                    probs[0] = (1.0 - probs[1] - probs[2] - probs[3]).max(0.0);
                                    let mut best = 0;
                                    for k in 1..4 {
                                        if probs[k] > probs[best] {
                                            best = k;
                                        }
                                    }
                                    let p = probs[best];
                                    acc.calls += 1;
                                    let bin = ((p * 256.0) as usize).min(255);
                                    acc.hist[bin] += 1;
                                    here.has_h = has_h;
                                    if p < self.threshold {
                                        here.fail = 1;
                                    } else {
                                        match best {
                                            0 => here.canonical = 1,
                                            1 => here.m = 1,
                                            2 => here.h = 1,
                                            _ => here.other = 1,
                                        }
                                    }
                                } else if implicit[usize::from(minus)] {
                                    here.canonical = 1;
                                } else {
                                    here.nocall = 1;
                                }
                            }
                            if self.count {
                                PileupAcc::at(&mut acc.blocks, site).add(&here);
                            }
                        }
                    }
                    q += len as usize;
                    rpos += len;
                }
                cigar::I | cigar::S => q += len as usize,
                cigar::D => {
                    if self.count {
                        for ri in rpos..rpos + len {
                            for minus in [false, true] {
                                if !covered[usize::from(minus)] {
                                    continue;
                                }
                                if let Some(site) = self.sites.site_index(tid, ri, minus) {
                                    PileupAcc::at(&mut acc.blocks, site).delete += 1;
                                }
                            }
                        }
                    }
                    rpos += len;
                }
                cigar::N => rpos += len,
                _ => {}
            }
        }
    }
}

impl ReadStage for PileupStage<'_> {
    type Acc = PileupAcc;

    fn accumulator(&self) -> PileupAcc {
        PileupAcc {
            hist: vec![0; 256],
            ..Default::default()
        }
    }

    fn observe(&self, acc: &mut PileupAcc, reads: &[ReadView<'_>]) {
        let mut scratch = ReadScratch::default();
        for r in reads {
            self.read(acc, r, &mut scratch);
        }
    }

    fn merge(&self, into: &mut PileupAcc, from: PileupAcc) {
        for (k, v) in from.blocks {
            match into.blocks.entry(k) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v);
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    for (a, b) in e.get_mut().iter_mut().zip(v.iter()) {
                        a.add(b);
                    }
                }
            }
        }
        for (a, b) in into.hist.iter_mut().zip(&from.hist) {
            *a += b;
        }
        into.reads += from.reads;
        into.reads_with_tags += from.reads_with_tags;
        into.calls += from.calls;
        if let Some((k, m)) = from.error {
            if into.error.as_ref().is_none_or(|(j, _)| k < *j) {
                into.error = Some((k, m));
            }
        }
    }

    fn needs_mods(&self) -> bool {
        true
    }

    fn finish(
        &self,
        _acc: PileupAcc,
        _info: &reads::InputInfo,
        _prov: &crate::core::Provenance,
    ) -> Vec<crate::tidy::Row> {
        Vec::new()
    }
}

/// The threshold from a confidence histogram: the probability at the [`FILTER_PERCENTILE`]
/// quantile of the calls (the lower edge of its 1/256 bin, so the quantile's calls pass).
pub fn estimate_threshold(hist: &[u64]) -> f64 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let want = (FILTER_PERCENTILE * total as f64).ceil().max(1.0) as u64;
    let mut cum = 0;
    for (b, &c) in hist.iter().enumerate() {
        cum += c;
        if cum >= want {
            return b as f64 / 256.0;
        }
    }
    0.0
}

fn one_pass(
    spec: &InputSpec,
    stage: &PileupStage<'_>,
    threads: usize,
) -> Result<(PileupAcc, u64), ReadError> {
    let source = reads::open(spec, threads)?;
    let (mut accs, stats) = reads::run_pass(source, &[stage as &dyn ErasedStage], threads)?;
    let acc = reads::take_acc(stage, accs.remove(0));
    if let Some((record, message)) = acc.error.clone() {
        return Err(ReadError::record(&spec.path, record, message));
    }
    Ok((acc, stats.records))
}

/// Piles up the 5mC/5hmC calls of `spec` at the reference's CpGs.
pub fn pileup(spec: &InputSpec, opts: &PileupOptions, threads: usize) -> Result<Pileup, ReadError> {
    let source = reads::open(spec, threads)?;
    let info = source.info.clone();
    drop(source);
    if matches!(info.format, reads::Format::Fastq | reads::Format::Fasta) {
        return Err(ReadError::file(
            &spec.path,
            "a pileup needs aligned reads (BAM, CRAM or SAM with MM/ML tags), not FASTQ/FASTA",
        )
        .with_category(Category::Usage));
    }
    let cpg_sites = CpgSites::from_fasta(&opts.reference, &info.contigs)?;
    let sites = &cpg_sites;
    let threshold = match opts.threshold {
        Threshold::Fixed(p) => p,
        Threshold::Estimated => {
            let stage = PileupStage {
                sites,
                threshold: 0.0,
                count: false,
            };
            estimate_threshold(&one_pass(spec, &stage, threads)?.0.hist)
        }
    };
    let stage = PileupStage {
        sites,
        threshold,
        count: true,
    };
    let (acc, records) = one_pass(spec, &stage, threads)?;
    if acc.reads > 0 && acc.reads_with_tags == 0 {
        return Err(ReadError::file(
            &spec.path,
            format!(
                "none of its {} mapped reads carries base-modification tags (MM/ML): not a modBAM? (basecall with modified-base calling, e.g. dorado --modified-bases 5mCG_5hmCG)",
                thousands(acc.reads)
            ),
        )
        .with_category(Category::InputFormat));
    }
    // Every CpG in contig order, with its counters (untouched blocks are skipped).
    let mut sites: Vec<(usize, u64, u8, SiteCounts)> = Vec::new();
    let counts = |i: u64| -> SiteCounts {
        acc.blocks
            .get(&(i / BLOCK_SITES))
            .map(|b| b[(i % BLOCK_SITES) as usize])
            .unwrap_or_default()
    };
    for (tid, bits) in cpg_sites.contigs.iter().enumerate() {
        let Some(bits) = bits else { continue };
        for (w, &word) in bits.iter().enumerate() {
            let mut rest = word;
            let mut r = u64::from(cpg_sites.ranks[tid][w]);
            while rest != 0 {
                let pos = (w as u64) * 64 + u64::from(rest.trailing_zeros());
                rest &= rest - 1;
                if acc.blocks.contains_key(&(2 * r / BLOCK_SITES)) {
                    let (plus, minus) = (counts(2 * r), counts(2 * r + 1));
                    if opts.combine_strands {
                        let mut c = plus;
                        c.add(&minus);
                        if c.valid() > 0 {
                            sites.push((tid, pos, b'.', c));
                        }
                    } else {
                        if plus.valid() > 0 {
                            sites.push((tid, pos, b'+', plus));
                        }
                        if minus.valid() > 0 {
                            sites.push((tid, pos + 1, b'-', minus));
                        }
                    }
                }
                r += 1;
            }
        }
    }
    Ok(Pileup {
        contigs: info.contigs.clone(),
        sites,
        stats: PileupStats {
            records,
            reads: acc.reads,
            reads_with_tags: acc.reads_with_tags,
            calls: acc.calls,
            threshold,
            estimated: opts.threshold == Threshold::Estimated,
        },
        build: info.build,
    })
}

/// Writes the pileup's bedMethyl rows (see the module doc).
pub fn write_bedmethyl(p: &Pileup, out: &mut dyn Write) -> io::Result<()> {
    let mut line = String::with_capacity(128);
    for (tid, pos, strand, c) in &p.sites {
        let chrom = &p.contigs[*tid].0;
        let valid = c.valid();
        for (code, n_mod, other) in [('m', c.m, c.h + c.other), ('h', c.h, c.m + c.other)] {
            if code == 'h' && !c.has_h {
                continue;
            }
            use std::fmt::Write as _;
            line.clear();
            let _ = writeln!(
                line,
                "{chrom}\t{pos}\t{end}\t{code}\t{valid}\t{strand}\t{pos}\t{end}\t255,0,0\t{valid}\t{pct:.2}\t{n_mod}\t{can}\t{other}\t{del}\t{fail}\t{diff}\t{nocall}",
                end = pos + 1,
                strand = *strand as char,
                pct = 100.0 * f64::from(n_mod) / f64::from(valid),
                can = c.canonical,
                del = c.delete,
                fail = c.fail,
                diff = c.diff,
                nocall = c.nocall,
            );
            out.write_all(line.as_bytes())?;
        }
    }
    Ok(())
}
