//! `agemark merge`: tidy tables → cohort tables (`agemark::cohort::merge::merge_tables`, the
//! code `agemark run` ends with).

use agemark::cohort::{merge::merge_tables, pseudo::Pseudonymiser};
use tracing::info;

use super::AppError;
use crate::cli::MergeArgs;

/// `agemark merge`.
pub fn run(args: &MergeArgs) -> Result<(), AppError> {
    let key = Pseudonymiser::load(args.pseudonymise.as_deref())?;
    let written = merge_tables(
        &args.tables,
        &args.output,
        args.samplesheet.as_deref(),
        key.as_ref(),
    )?;
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
