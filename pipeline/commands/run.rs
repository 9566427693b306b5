//! `agemark run`: a cohort run from a sample sheet (`agemark::cohort::runner`).

use agemark::cohort::runner::{self, RunOptions, RunOutcome};

use super::{mtdna::mtdna_options, telomere::telomere_options, AppError};
use crate::cli::RunArgs;

/// `agemark run`.
pub fn run(args: &RunArgs, threads: usize) -> Result<(), AppError> {
    let opts = RunOptions {
        samplesheet: args.samplesheet.clone(),
        outdir: args.outdir.clone(),
        betas: args.betas.clone(),
        stages: args.stages.clone(),
        samples: args.samples.as_ref().map(|s| {
            s.split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()
        }),
        check: args.check,
        idat_dir: args.idat_dir.clone(),
        plan: args.plan.clone(),
        pseudonymise: args.pseudonymise.clone(),
        clocks: args.clocks.clone(),
        scores: args.scores.clone(),
        telomere: telomere_options(&args.telomere)?,
        long_reads: super::telomere::long_read_options(&args.long_reads)?,
        mtdna: mtdna_options(&args.mtdna),
        threads,
        report_banner: None,
        qpcr: args.qpcr.clone(),
    };
    if let RunOutcome::Checked { sheet, n_samples } = runner::run(&opts)? {
        println!("{sheet}: ok ({n_samples} samples)");
    }
    Ok(())
}
