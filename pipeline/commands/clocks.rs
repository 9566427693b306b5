//! `agemark clocks`: epigenetic clocks (and age acceleration) from one methylation input
//! (`agemark::pipelines::clocks`).

use agemark::pipelines::{self, ClocksRequest};
use tracing::info;

use super::{methinput, AppError};
use crate::cli::ClocksArgs;

/// `agemark clocks`.
pub fn run(args: &ClocksArgs) -> Result<(), AppError> {
    let request = ClocksRequest {
        input: args.input.betas.clone(),
        output: args.output.clone(),
        clocks: args.clocks.clone(),
        models_dir: args.models_dir.clone(),
        impute: methinput::impute(args.impute),
        max_missing: args.max_missing,
        samplesheet: args.samplesheet.clone(),
        celltypes: args.celltypes.clone(),
        reader: methinput::reader_options(&args.input)?,
    };
    for p in pipelines::clocks(&request)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
