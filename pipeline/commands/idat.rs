//! `agemark idat`: IDAT pairs → betas, detection p-values, per-sample QC and failures
//! (`agemark::pipelines::idat`).

use super::{methinput::idat_options, AppError};
use crate::cli::IdatArgs;

/// `agemark idat`.
pub fn run(args: &IdatArgs) -> Result<(), AppError> {
    let opts = idat_options(&args.idat)?;
    agemark::pipelines::idat(
        &args.inputs,
        args.sample_ids.as_deref(),
        &opts,
        &args.output,
    )?;
    Ok(())
}
