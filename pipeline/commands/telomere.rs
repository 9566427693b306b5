//! `agemark telomere`: one read pass with the telomere stage.

use agemark::{readpass, reads::InputSpec, telomere::TelomereOptions};
use tracing::info;

use super::AppError;
use crate::cli::{ReadInputArgs, TelomereArgs, TelomereOpts};

// Kept for the commands that still import them from here (`run`, `demo`).

/// Builds the input spec from the shared read arguments.
pub fn input_spec(a: &ReadInputArgs) -> InputSpec {
    InputSpec {
        path: a.inputs[0].clone(),
        path2: a.inputs.get(1).cloned(),
        reference: a.reference.clone(),
        interleaved: a.interleaved,
    }
}

/// Telomere options from the command line (checked: `-k` between 1 and 16).
pub fn telomere_options(args: &TelomereOpts) -> Result<TelomereOptions, AppError> {
    let opts = TelomereOptions {
        k: args.k,
        telseq_compat: args.telseq_compat,
        th_threshold: args.th_threshold,
        th_remove_duplicates: args.th_remove_duplicates,
    };
    opts.validate()?;
    Ok(opts)
}

/// Long-read options from the command line (`None` without `--long-reads`; the motif checked).
pub fn long_read_options(
    a: &crate::cli::LongReadOpts,
) -> Result<Option<agemark::telomere::longread::LongReadOptions>, AppError> {
    if !a.long_reads {
        return Ok(None);
    }
    let o = agemark::telomere::longread::LongReadOptions {
        motif: a.motif.to_ascii_uppercase(),
    };
    o.validate()?;
    Ok(Some(o))
}

/// `agemark telomere`.
pub fn run(args: &TelomereArgs, threads: usize) -> Result<(), AppError> {
    if let Some(opts) = long_read_options(&args.long_reads)? {
        let written = readpass::long_read_telomere_to(
            &input_spec(&args.input),
            args.input.sample_id.as_deref(),
            &opts,
            threads,
            &args.input.output,
        )?;
        for p in written {
            info!("wrote {}", p.display());
        }
        return Ok(());
    }
    let opts = telomere_options(&args.telomere)?;
    let written = readpass::telomere_to(
        &input_spec(&args.input),
        args.input.sample_id.as_deref(),
        opts,
        threads,
        &args.input.output,
    )?;
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
