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

/// Writes a probes × samples matrix (gzip TSV; first column `probe_id`; NA for missing). Blocks
/// of rows are formatted and compressed in parallel as separate gzip members (a valid gzip
/// file, as bgzip and pigz write them), a bounded number of blocks at a time.
fn write_matrix(
    path: &Path,
    batch: &Batch,
    values: impl Fn(&agemark::methylation::array::SampleResult) -> &Vec<f32> + Sync,
) -> Result<(), AppError> {
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
