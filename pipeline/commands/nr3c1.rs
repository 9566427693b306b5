//! `agemark nr3c1`: NR3C1 (glucocorticoid receptor) methylation (`agemark::pipelines::nr3c1`).

use agemark::methylation::nr3c1::Nr3c1Options;
use tracing::info;

use super::{methinput, AppError};
use crate::cli::Nr3c1Args;

/// `agemark nr3c1`.
pub fn run(args: &Nr3c1Args) -> Result<(), AppError> {
    let opts = Nr3c1Options {
        max_missing: args.max_missing,
    };
    let reader = methinput::reader_options(&args.input)?;
    for p in agemark::pipelines::nr3c1(&args.input.betas, &args.output, &opts, &reader)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
