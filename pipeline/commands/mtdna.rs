//! `agemark mtdna`: mtDNA copy number, full pass or indexed fast mode.

use agemark::{
    mtdna::{fast::FastOptions, MtdnaOptions},
    readpass::{self, MtdnaMode},
};
use tracing::info;

use super::{telomere::input_spec, AppError};
use crate::cli::{self, MtdnaArgs, MtdnaOpts};

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
    let mode = match args.mode {
        cli::MtdnaMode::Full => MtdnaMode::Full,
        cli::MtdnaMode::Fast => MtdnaMode::Fast(FastOptions {
            windows: args.fast_windows,
            window_size: args.fast_window_size,
            seed: args.seed,
        }),
    };
    let written = readpass::mtdna_to(
        &input_spec(&args.input),
        args.input.sample_id.as_deref(),
        mtdna_options(&args.mtdna),
        &mode,
        threads,
        &args.input.output,
    )?;
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
