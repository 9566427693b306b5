//! Fast mode: chrM read fully through the index, the autosomes through a seeded random sample of
//! fixed-size windows (fastMitoCalc's idea: Qian et al. 2017, *Bioinformatics* 33:1399).
//!
//! The autosomes are cut into windows of `window_size` bases (the last window of a contig is
//! shorter); `windows` of them are drawn without replacement with SplitMix64 from `seed`. A read
//! overlapping a window counts only the bases inside it, so adjacent windows never count a base
//! twice, and windows falling in assembly gaps count as zero depth — the same quantity full mode
//! divides by the whole autosome length. The estimate is unbiased; its error shrinks with the
//! number of windows and is measured on the benchmark BAM (README).

use rayon::prelude::*;

use super::{covered_bases, ContigPlan, DepthCounts, MtdnaOptions, Sampling};
use crate::{
    core::{error::Error, rng::SplitMix64},
    reads::{indexed::IndexedInput, InputSpec, ReadError},
};

/// Fast-mode options.
#[derive(Clone, Debug)]
pub struct FastOptions {
    /// Number of autosomal windows.
    pub windows: usize,
    /// Window length in bases.
    pub window_size: u64,
    /// Seed of the window draw.
    pub seed: u64,
}

impl Default for FastOptions {
    fn default() -> Self {
        FastOptions {
            windows: 400,
            window_size: 100_000,
            seed: 1,
        }
    }
}

impl FastOptions {
    /// Checks the options against the mtDNA options they go with: positive window count and
    /// size, no per-read-group table (a [`Category::Usage`](crate::core::error::Category::Usage) error
    /// otherwise).
    pub fn validate(&self, opts: &MtdnaOptions) -> Result<(), Error> {
        if self.windows == 0 || self.window_size == 0 {
            return Err(Error::usage(
                "--fast-windows and --fast-window-size must be positive",
            ));
        }
        if opts.per_read_group {
            return Err(Error::usage(
                "--per-read-group is available in full mode only",
            ));
        }
        Ok(())
    }
}

/// Draws the windows: `(tid, start, end)`, sorted by position.
pub fn draw_windows(plan: &ContigPlan, fast: &FastOptions) -> Vec<(usize, u64, u64)> {
    let mut all = Vec::new();
    for (tid, (&class, &len)) in plan.class.iter().zip(plan.lengths.iter()).enumerate() {
        if class != 1 {
            continue;
        }
        let mut start = 0;
        while start < len {
            let end = (start + fast.window_size).min(len);
            all.push((tid, start, end));
            start = end;
        }
    }
    let k = fast.windows.min(all.len());
    let mut rng = SplitMix64(fast.seed);
    // Partial Fisher–Yates: the first k entries become a uniform sample without replacement.
    for i in 0..k {
        let j = i + rng.below((all.len() - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(k);
    all.sort_unstable();
    all
}

/// Runs fast mode; returns the counts, the sampling, the plan and the header information.
pub fn run(
    spec: &InputSpec,
    opts: &MtdnaOptions,
    fast: &FastOptions,
) -> Result<(DepthCounts, Sampling, ContigPlan, crate::reads::InputInfo), ReadError> {
    let input = IndexedInput::open(spec)?;
    let plan = ContigPlan::from_info(&spec.path, &input.info)?;
    let windows = draw_windows(&plan, fast);
    let sampled_length: u64 = windows.iter().map(|(_, s, e)| e - s).sum();
    let mut jobs: Vec<(usize, u64, u64, bool)> =
        vec![(plan.mito, 0, plan.lengths[plan.mito], true)];
    jobs.extend(windows.iter().map(|&(t, s, e)| (t, s, e, false)));
    let results: Vec<Result<DepthCounts, ReadError>> = jobs
        .par_iter()
        .map_init(
            || input.reader(),
            |reader, &(tid, start, end, is_mito)| {
                let reader = reader
                    .as_mut()
                    .map_err(|e| ReadError::file(&spec.path, e.message.clone()))?;
                let mut c = DepthCounts::default();
                input.query(reader, tid, start, end, |a| {
                    if a.tid != Some(tid) || !opts.keeps(a.flags, a.mapq) {
                        return;
                    }
                    let bases = covered_bases(&a.cigar, a.pos, opts.mosdepth_compat, start, end);
                    if is_mito {
                        c.mito_bases += bases;
                        c.mito_reads += 1;
                    } else if bases > 0 {
                        c.autosomal_bases += bases;
                        c.autosomal_reads += 1;
                    }
                })?;
                Ok(c)
            },
        )
        .collect();
    let mut total = DepthCounts::default();
    for r in results {
        let c = r?;
        total.mito_bases += c.mito_bases;
        total.mito_reads += c.mito_reads;
        total.autosomal_bases += c.autosomal_bases;
        total.autosomal_reads += c.autosomal_reads;
    }
    Ok((total, Sampling { sampled_length }, plan, input.info))
}
