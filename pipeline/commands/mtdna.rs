//! `agemark mtdna`: mtDNA copy number, full pass or indexed fast mode.

use std::path::Path;

use agemark::{
    mtdna::{self, fast, MtdnaOptions, SUFFIX},
    tidy,
};
use tracing::info;

use super::{
    telomere::{input_spec, provenance, read_pass, sample_id, write_rows},
    AppError,
};
use crate::cli::{MtdnaArgs, MtdnaMode, MtdnaOpts};

/// mtDNA options from the command line.
pub fn mtdna_options(a: &MtdnaOpts) -> MtdnaOptions {
    MtdnaOptions {
        mosdepth_compat: a.mosdepth_compat,
        min_mapq: a.min_mapq,
        exclude_flags: a.exclude_flags,
        per_read_group: a.per_read_group,
    }
}

/// `agemark mtdna`.
pub fn run(args: &MtdnaArgs, threads: usize) -> Result<(), AppError> {
    let opts = mtdna_options(&args.mtdna);
    if args.mode == MtdnaMode::Fast {
        if args.fast_windows == 0 || args.fast_window_size == 0 {
            return Err(AppError::Usage(
                "--fast-windows and --fast-window-size must be positive".into(),
            ));
        }
        if opts.per_read_group {
            return Err(AppError::Usage(
                "--per-read-group is available in full mode only".into(),
            ));
        }
    }
    if args.input.output != "-" {
        tidy::prepare_output_dir(Path::new(&args.input.output))?;
    }
    let spec = input_spec(&args.input);
    let rows = match args.mode {
        MtdnaMode::Full => read_pass(
            &spec,
            args.input.sample_id.as_deref(),
            None,
            Some((opts, true)),
            threads,
        )?
        .mtdna
        .unwrap_or_default(),
        MtdnaMode::Fast => {
            let fo = fast::FastOptions {
                windows: args.fast_windows,
                window_size: args.fast_window_size,
                seed: args.seed,
            };
            let started = std::time::Instant::now();
            let (counts, sampling, plan, info) = fast::run(&spec, &opts, &fo)?;
            let sample = sample_id(args.input.sample_id.as_deref(), &spec.path, &info);
            let prov = provenance(&spec, sample, &info);
            info!(
                "{}: fast mode in {:.2} s",
                prov.sample_id,
                started.elapsed().as_secs_f64()
            );
            let method = opts.method(&format!(
                "fast;windows={}x{}bp;seed={}",
                fo.windows, fo.window_size, fo.seed
            ));
            mtdna::rows_for(&counts, &plan, Some(sampling), &method, &prov, "")
        }
    };
    for p in write_rows(&args.input.output, SUFFIX, &rows)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
