//! IDAT directories / prefixes as a methylation input (issue 5): detection, and loading into a
//! [`ProbeTable`] through the array preprocessing of [`crate::methylation::array`] (pOOBAH,
//! noob, dye bias, betas; see that module for the formulas and citations). `agemark clocks`
//! (and every stage reading through [`super::read_methylation_with`]) thus takes an IDAT
//! directory wherever it takes a beta matrix.

use super::{table::ProbeTable, ReaderOptions};
use crate::methylation::{
    array::{
        batch::{is_idat_input, run_batch, BatchOptions},
        manifest::Platform,
        PreprocessOptions,
    },
    InputError,
};

/// Options for reading IDATs (manifest, platform, beta offset, detection threshold).
#[derive(Clone, Debug, Default)]
pub struct IdatInputOptions {
    /// User manifest (Illumina CSV or sesame TSV); default: the bundled one for the platform.
    pub manifest: Option<String>,
    /// Platform; `None` = detect from the IDAT address count.
    pub platform: Option<Platform>,
    /// Preprocessing (beta offset, pOOBAH threshold).
    pub preprocess: PreprocessOptions,
}

impl IdatInputOptions {
    /// The options of the IDAT batch preprocessing (manifest, platform, preprocessing).
    pub fn batch_options(&self) -> crate::methylation::array::batch::BatchOptions {
        crate::methylation::array::batch::BatchOptions {
            manifest: self.manifest.clone(),
            platform: self.platform,
            preprocess: self.preprocess,
            data_dir: None,
        }
    }
}

/// Whether `path` names IDAT input (a directory holding `*_Grn.idat`/`*_Red.idat`, or a
/// `<barcode>_<position>` prefix).
pub fn detect(path: &str) -> bool {
    is_idat_input(path)
}

/// Reads and preprocesses the IDATs of `path` into a probe table. Samples that fail (a lone
/// channel, a truncated file, another platform) are left out with a note; when none is left
/// the load fails.
pub fn load(path: &str, opts: &ReaderOptions) -> Result<ProbeTable, InputError> {
    let o = &opts.idat;
    let batch = run_batch(
        &[path.to_string()],
        &BatchOptions {
            manifest: o.manifest.clone(),
            platform: o.platform,
            preprocess: o.preprocess,
            data_dir: None,
        },
    )?;
    if batch.samples.is_empty() {
        let why: Vec<String> = batch
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.file, f.message))
            .collect();
        return Err(InputError::file(
            path,
            format!("no IDAT pair could be processed ({})", why.join("; ")),
        ));
    }
    let n = batch.samples.len();
    let probes: Vec<String> = batch.manifest.probes.iter().map(|p| p.id.clone()).collect();
    let mut values = vec![f64::NAN; probes.len() * n];
    for (s, r) in batch.results.iter().enumerate() {
        for (p, &b) in r.betas.iter().enumerate() {
            values[p * n + s] = f64::from(b);
        }
    }
    let mut notes = vec![format!(
        "IDATs of {} ({} manifest, {}) preprocessed by {}",
        batch.platform.map_or("unknown", Platform::name),
        batch.manifest.source,
        probes.len(),
        o.preprocess.describe()
    )];
    let masked: usize = batch
        .results
        .iter()
        .map(|r| r.qc.n_failed + r.qc.n_absent)
        .sum();
    notes.push(format!(
        "{masked} probe × sample cells masked to NA (detection p > {} or address absent)",
        o.preprocess.pval_threshold
    ));
    for f in &batch.failures {
        notes.push(format!(
            "sample {} left out: {}: {}",
            f.sample, f.file, f.message
        ));
    }
    Ok(ProbeTable {
        input: crate::core::file_name_of(path),
        samples: batch.samples.iter().map(|s| s.name.clone()).collect(),
        probes,
        values,
        notes,
    })
}
