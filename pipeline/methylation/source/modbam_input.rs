//! modBAM (reads with `MM`/`ML` tags) as a methylation input: the reads are piled up at the
//! reference's CpGs ([`crate::modpileup`], the same counts `agemark pileup` writes as
//! bedMethyl) and each CpG strand becomes a call line of the sequencing-calls path
//! ([`super::calls_input`]): methylated = valid 5mC calls, total = valid calls (5mC + 5hmC +
//! other + canonical, so 5hmC counts as not 5mC, as for a modkit bedMethyl `m` row). From there
//! the probe mapping, the minimum coverage and the checks are those of every calls file.
//!
//! The genome build is the one the reads' header names (GRCh38, GRCh37/hg19), else `--build`.
//! The pileup of an input is kept for the next reader of the same input with the same options
//! (a clocks run reads its input once per check); at most two pileups are kept.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use super::calls_input::{CallsBuild, CallsInputOptions};
use crate::{
    core::build::Build,
    methylation::InputError,
    modpileup::{self, Pileup, PileupOptions, Threshold},
    reads::InputSpec,
};

/// Whether `path` names reads (`.bam`, `.cram`, `.sam`): a modBAM methylation input.
pub fn detect(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".bam", ".cram", ".sam"].iter().any(|e| lower.ends_with(e))
}

type Key = (String, Option<PathBuf>, Option<u64>);

static CACHE: Mutex<Vec<(Key, Arc<Pileup>)>> = Mutex::new(Vec::new());

/// The pileup of `path` with the options' reference and threshold (computed once, see the
/// module doc).
pub fn pileup(path: &str, opts: &CallsInputOptions) -> Result<Arc<Pileup>, InputError> {
    let Some(reference) = opts.reference.clone() else {
        return Err(InputError::file(
            path,
            "reads as methylation input (a modBAM) need the reference they were aligned to: pass --reference FASTA (CpG sites come from it)",
        ));
    };
    let key: Key = (
        path.to_string(),
        Some(reference.clone()),
        opts.mod_threshold.map(f64::to_bits),
    );
    if let Some((_, p)) = CACHE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|(k, _)| *k == key)
    {
        return Ok(p.clone());
    }
    let spec = InputSpec {
        path: path.to_string(),
        reference: Some(reference.clone()),
        ..Default::default()
    };
    let popts = PileupOptions {
        reference,
        threshold: opts
            .mod_threshold
            .map_or(Threshold::Estimated, Threshold::Fixed),
        combine_strands: false,
    };
    let p = Arc::new(
        modpileup::pileup(&spec, &popts, rayon::current_num_threads())
            .map_err(|e| InputError::file(path, e.to_string()))?,
    );
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= 2 {
        cache.remove(0);
    }
    cache.push((key, p.clone()));
    Ok(p)
}

/// The build of a pileup's coordinates: the reads' header's, else `fallback`; T2T is refused
/// (no probe positions are bundled for it).
pub fn build_of(path: &str, p: &Pileup, fallback: CallsBuild) -> Result<CallsBuild, InputError> {
    match p.build {
        Build::Grch38 => Ok(CallsBuild::Hg38),
        Build::Grch37 | Build::Hg19 => Ok(CallsBuild::Hg19),
        Build::T2tChm13 => Err(InputError::file(
            path,
            "reads aligned to T2T-CHM13: probe positions are bundled for hg19 and hg38 only (realign, or lift the bedMethyl of `agemark pileup` over)",
        )),
        _ => Ok(fallback),
    }
}

/// The note on how the pileup was made.
pub fn note(p: &Pileup) -> String {
    let s = &p.stats;
    format!(
        "modBAM pileup: {} reads ({} with MM/ML), {} calls at CpG C's; call threshold {:.4} ({}); 5hmC counted as not 5mC",
        crate::core::thousands(s.reads),
        crate::core::thousands(s.reads_with_tags),
        crate::core::thousands(s.calls),
        s.threshold,
        if s.estimated {
            "estimated, 10th percentile of the calls' confidence"
        } else {
            "--mod-threshold"
        }
    )
}
