//! `agemark idat`: IDAT pairs → betas, detection p-values, per-sample QC and failures.

use std::{io::Write, path::Path, time::Instant};

use agemark::{
    methylation::{
        array::batch::{qc_rows, run_batch, Batch, BatchOptions, Failure},
        InputError,
    },
    tidy,
};
use tracing::{info, warn};

use super::{methinput::idat_options, telomere::write_rows, AppError};
use crate::cli::IdatArgs;

/// `agemark idat`.
pub fn run(args: &IdatArgs) -> Result<(), AppError> {
    let started = Instant::now();
    let opts = idat_options(&args.idat)?;
    if args.output == "-" {
        return Err(AppError::Usage(
            "agemark idat writes several files: give an output prefix with -o, not -".into(),
        ));
    }
    let prefix = Path::new(&args.output);
    tidy::prepare_output_dir(prefix)?;
    let batch = run_batch(
        &args.inputs,
        &BatchOptions {
            manifest: opts.manifest.clone(),
            platform: opts.platform,
            preprocess: opts.preprocess,
        },
    )?;
    for f in &batch.failures {
        warn!("{}: {}", f.file, f.message);
    }
    let out = |suffix: &str| std::path::PathBuf::from(format!("{}.{suffix}", args.output));
    if !batch.samples.is_empty() {
        let betas = out("betas.tsv.gz");
        write_matrix(&betas, &batch, |r| &r.betas)?;
        info!("wrote {}", betas.display());
        let det = out("detection.tsv.gz");
        write_matrix(&det, &batch, |r| &r.pvals)?;
        info!("wrote {}", det.display());
        let rows = qc_rows(&batch, &opts.preprocess);
        for p in write_rows(&args.output, "idat_qc", &rows)? {
            info!("wrote {}", p.display());
        }
    }
    let failures_path = out("failures.tsv");
    if batch.failures.is_empty() {
        // A stale list from an earlier run of the same prefix would mislead.
        let _ = std::fs::remove_file(&failures_path);
    } else {
        write_failures(&failures_path, &batch.failures)?;
    }
    info!(
        "{} samples ({} platform, manifest {}, {} probes) in {:.2} s; {} failed",
        batch.samples.len(),
        batch.platform.map_or(
            "unknown",
            agemark::methylation::array::manifest::Platform::name
        ),
        batch.manifest.source,
        batch.manifest.probes.len(),
        started.elapsed().as_secs_f64(),
        batch.failures.len()
    );
    if !batch.failures.is_empty() {
        return Err(InputError::file(
            &failures_path.display().to_string(),
            format!(
                "{} of {} samples/inputs failed (listed in this file); the others were written",
                batch.failures.len(),
                batch.failures.len() + batch.samples.len()
            ),
        )
        .into());
    }
    Ok(())
}

/// Writes a probes × samples matrix (gzip TSV; first column `probe_id`; NA for missing).
fn write_matrix(
    path: &Path,
    batch: &Batch,
    values: impl Fn(&agemark::methylation::array::SampleResult) -> &Vec<f32>,
) -> Result<(), AppError> {
    tidy::write_atomic(path, |w| {
        let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::new(3));
        let mut line = String::with_capacity(16 * (batch.samples.len() + 1));
        line.push_str("probe_id");
        for s in &batch.samples {
            line.push('\t');
            line.push_str(&s.name);
        }
        line.push('\n');
        gz.write_all(line.as_bytes())?;
        let cols: Vec<&Vec<f32>> = batch.results.iter().map(&values).collect();
        for (p, probe) in batch.manifest.probes.iter().enumerate() {
            line.clear();
            line.push_str(&probe.id);
            for c in &cols {
                line.push('\t');
                let v = c[p];
                if v.is_nan() {
                    line.push_str("NA");
                } else {
                    use std::fmt::Write as _;
                    let _ = write!(line, "{v}");
                }
            }
            line.push('\n');
            gz.write_all(line.as_bytes())?;
        }
        gz.finish()?;
        Ok(())
    })?;
    Ok(())
}

fn write_failures(path: &Path, failures: &[Failure]) -> Result<(), AppError> {
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
