//! `agemark pileup`.

use agemark::{
    modpileup::{PileupOptions, Threshold},
    pipelines::pileup,
    reads::InputSpec,
};
use tracing::info;

use super::AppError;
use crate::cli::{PileupArgs, PileupOpts};

/// The library's pileup options from the command line.
pub fn pileup_options(reference: &std::path::Path, a: &PileupOpts) -> PileupOptions {
    PileupOptions {
        reference: reference.to_path_buf(),
        threshold: a
            .mod_threshold
            .map_or(Threshold::Estimated, Threshold::Fixed),
        combine_strands: a.combine_strands,
    }
}

/// `agemark pileup`.
pub fn run(args: &PileupArgs, threads: usize) -> Result<(), AppError> {
    let spec = InputSpec {
        path: args.input.clone(),
        reference: Some(args.reference.clone()),
        ..Default::default()
    };
    let written = pileup::pileup_to(
        &spec,
        &pileup_options(&args.reference, &args.pileup),
        threads,
        &args.output,
    )?;
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
