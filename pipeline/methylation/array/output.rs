//! Writing an IDAT batch: the betas and detection matrices (gzip TSV), the per-sample QC
//! table and the failures list. The code of `agemark idat` and of a cohort run's idat job.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use tracing::{info, warn};

use crate::{
    core::error::Error,
    methylation::array::batch::{discover, qc_rows, run_batch, Batch, BatchOptions, Failure},
    tidy::{self, Row},
};

/// What [`write_batch`] did.
pub struct BatchWritten {
    /// Samples written.
    pub n_samples: usize,
    /// Samples and inputs that failed (named by their sample ids when given).
    pub failures: Vec<Failure>,
    /// `<PREFIX>.failures.tsv` (written only when something failed).
    pub failures_path: PathBuf,
    /// Platform name.
    pub platform: &'static str,
    /// Manifest source.
    pub manifest: String,
    /// Probes of the manifest.
    pub n_probes: usize,
}

/// Sample ids by IDAT basename (and by input as given, for an input that names no pair): one
/// id per input, each input naming one pair.
fn id_map(inputs: &[String], ids: &[String]) -> Result<BTreeMap<String, String>, Error> {
    if ids.len() != inputs.len() {
        return Err(Error::usage(format!(
            "--sample-ids: {} ids for {} inputs (one id per input, in order)",
            ids.len(),
            inputs.len()
        )));
    }
    let mut map = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for (input, id) in inputs.iter().zip(ids) {
        if id.is_empty() || !seen.insert(id.as_str()) {
            return Err(Error::usage(format!(
                "--sample-ids: '{id}' is empty or given twice"
            )));
        }
        let (pairs, fails) = discover(std::slice::from_ref(input));
        if pairs.len() > 1 {
            return Err(Error::usage(format!(
                "--sample-ids: {input} holds {} IDAT pairs; with --sample-ids each input must name one pair (give the <barcode>_<position> prefixes)",
                pairs.len()
            )));
        }
        if let Some(p) = pairs.first() {
            if map.insert(p.name.clone(), id.clone()).is_some() {
                return Err(Error::usage(format!(
                    "--sample-ids: two inputs name the IDAT pair {}",
                    p.name
                )));
            }
        }
        if pairs.is_empty() {
            // A lone channel is a failure named by its basename.
            for f in fails {
                map.insert(f.sample, id.clone());
            }
        }
        map.insert(input.clone(), id.clone());
    }
    Ok(map)
}

/// Renames a batch's samples and failures by [`id_map`].
fn rename(batch: &mut Batch, map: &BTreeMap<String, String>) {
    for s in &mut batch.samples {
        if let Some(id) = map.get(&s.name) {
            s.name = id.clone();
        }
    }
    for f in &mut batch.failures {
        if let Some(id) = map.get(&f.sample) {
            f.sample = id.clone();
        }
    }
}

/// The code of `agemark idat` (also the IDAT batch job of `agemark run`): preprocesses the
/// IDAT pairs of `inputs` and writes `<output>.betas.tsv.gz`, `.detection.tsv.gz`,
/// `.idat_qc.tsv/.parquet` and, when a sample or input failed, `.failures.tsv` (removed
/// otherwise). `protect` rewrites the QC rows and `scrub` the failure messages before they are
/// written (pseudonymisation in `run`). A whole-batch problem (no pair at all, an unreadable
/// manifest) is an error, and leaves no output of an earlier run of the prefix behind.
pub fn write_batch(
    inputs: &[String],
    sample_ids: Option<&[String]>,
    opts: &BatchOptions,
    output: &str,
    protect: &dyn Fn(&mut [Row]),
    scrub: &dyn Fn(&str) -> String,
) -> Result<BatchWritten, Error> {
    let map = sample_ids.map(|ids| id_map(inputs, ids)).transpose()?;
    let prefix = Path::new(output);
    tidy::prepare_output_dir(prefix)?;
    let out = |suffix: &str| PathBuf::from(format!("{output}.{suffix}"));
    let failures_path = out("failures.tsv");
    let batch = run_batch(inputs, opts);
    let mut batch = match batch {
        Ok(b) => b,
        Err(e) => {
            for s in [
                "betas.tsv.gz",
                "detection.tsv.gz",
                "idat_qc.tsv",
                "idat_qc.parquet",
                "failures.tsv",
            ] {
                let _ = std::fs::remove_file(out(s));
            }
            return Err(e.into());
        }
    };
    if let Some(m) = &map {
        rename(&mut batch, m);
    }
    for f in &mut batch.failures {
        f.file = scrub(&f.file);
        f.message = scrub(&f.message);
        warn!("{}: {}", f.file, f.message);
    }
    if batch.samples.is_empty() {
        for s in [
            "betas.tsv.gz",
            "detection.tsv.gz",
            "idat_qc.tsv",
            "idat_qc.parquet",
        ] {
            let _ = std::fs::remove_file(out(s));
        }
    } else {
        let betas = out("betas.tsv.gz");
        write_matrix(&betas, &batch, |r| &r.betas)?;
        info!("wrote {}", betas.display());
        let det = out("detection.tsv.gz");
        write_matrix(&det, &batch, |r| &r.pvals)?;
        info!("wrote {}", det.display());
        let mut rows = qc_rows(&batch, &opts.preprocess);
        protect(&mut rows);
        for p in tidy::write_rows(output, "idat_qc", &rows)? {
            info!("wrote {}", p.display());
        }
    }
    if batch.failures.is_empty() {
        // A stale list from an earlier run of the same prefix would mislead.
        let _ = std::fs::remove_file(&failures_path);
    } else {
        write_failures(&failures_path, &batch.failures)?;
    }
    Ok(BatchWritten {
        n_samples: batch.samples.len(),
        failures: batch.failures,
        failures_path,
        platform: batch.platform.map_or(
            "unknown",
            crate::methylation::array::manifest::Platform::name,
        ),
        manifest: batch.manifest.source.clone(),
        n_probes: batch.manifest.probes.len(),
    })
}

/// Writes a probes × samples matrix (gzip TSV; first column `probe_id`; NA for missing). Blocks
/// of rows are formatted and compressed in parallel as separate gzip members (a valid gzip
/// file, as bgzip and pigz write them), a bounded number of blocks at a time.
fn write_matrix(
    path: &Path,
    batch: &Batch,
    values: impl Fn(&crate::methylation::array::SampleResult) -> &Vec<f32> + Sync,
) -> Result<(), Error> {
    use rayon::prelude::*;
    const BLOCK: usize = 4096;
    let cols: Vec<&Vec<f32>> = batch.results.iter().map(&values).collect();
    let probes = &batch.manifest.probes;
    let n_blocks = probes.len().div_ceil(BLOCK);
    let gzip = |text: &[u8]| -> std::io::Result<Vec<u8>> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(3));
        gz.write_all(text)?;
        gz.finish()
    };
    let block = |b: usize| -> std::io::Result<Vec<u8>> {
        use std::fmt::Write as _;
        let mut text = String::with_capacity(BLOCK * (12 + 11 * cols.len()));
        for p in b * BLOCK..((b + 1) * BLOCK).min(probes.len()) {
            text.push_str(&probes[p].id);
            for c in &cols {
                let v = c[p];
                if v.is_nan() {
                    text.push_str("\tNA");
                } else {
                    let _ = write!(text, "\t{v}");
                }
            }
            text.push('\n');
        }
        gzip(text.as_bytes())
    };
    tidy::write_atomic(path, |w| {
        let mut head = String::from("probe_id");
        for s in &batch.samples {
            head.push('\t');
            head.push_str(&s.name);
        }
        head.push('\n');
        w.write_all(&gzip(head.as_bytes())?)?;
        let step = 4 * rayon::current_num_threads().max(1);
        for start in (0..n_blocks).step_by(step) {
            let done: Vec<std::io::Result<Vec<u8>>> = (start..(start + step).min(n_blocks))
                .into_par_iter()
                .map(block)
                .collect();
            for d in done {
                w.write_all(&d?)?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Writes a batch's failures.tsv (`sample`, `file`, `message`).
pub fn write_failures(path: &Path, failures: &[Failure]) -> Result<(), Error> {
    tidy::write_atomic(path, |w| {
        writeln!(w, "sample\tfile\tmessage")?;
        for f in failures {
            let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
            writeln!(
                w,
                "{}\t{}\t{}",
                clean(&f.sample),
                clean(&f.file),
                clean(&f.message)
            )?;
        }
        Ok(())
    })?;
    Ok(())
}
