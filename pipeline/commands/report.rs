//! `agemark report`: the HTML report and MultiQC files of a results directory
//! (`agemark::pipelines::report`).

use agemark::cohort::pseudo::Pseudonymiser;
use tracing::info;

use super::AppError;
use crate::cli::ReportArgs;

/// `agemark report`.
pub fn run(args: &ReportArgs) -> Result<(), AppError> {
    let key = Pseudonymiser::load(args.pseudonymise.as_deref())?;
    let written = agemark::pipelines::report(
        &args.dir,
        &args.output,
        args.samplesheet.as_deref(),
        key.as_ref(),
        args.multiqc_dir.as_deref(),
    )?;
    for p in written {
        info!("wrote {}", p.display());
    }
    Ok(())
}
