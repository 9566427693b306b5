//! `agemark scores`: DNA-methylation exposure scores from one methylation input
//! (`agemark::pipelines::scores`).

use agemark::pipelines::{self, ScoresRequest};
use tracing::info;

use super::{methinput, AppError};
use crate::cli::ScoresArgs;

/// `agemark scores`.
pub fn run(args: &ScoresArgs) -> Result<(), AppError> {
    let request = ScoresRequest {
        input: args.input.betas.clone(),
        output: args.output.clone(),
        scores: args.scores.clone(),
        impute: methinput::impute(args.impute),
        max_missing: args.max_missing,
        reader: methinput::reader_options(&args.input)?,
    };
    for p in pipelines::scores(&request)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
