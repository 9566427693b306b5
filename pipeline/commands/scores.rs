//! `agemark scores`: DNA-methylation exposure scores from one methylation input
//! (`agemark::pipelines::scores`).

use agemark::{
    methylation::models::Impute,
    pipelines::{self, ScoresRequest},
};
use tracing::info;

use super::{methinput, AppError};
use crate::cli::{ImputeArg, ScoresArgs};

/// `agemark scores`.
pub fn run(args: &ScoresArgs) -> Result<(), AppError> {
    let request = ScoresRequest {
        input: args.input.betas.clone(),
        output: args.output.clone(),
        scores: args.scores.clone(),
        impute: match args.impute {
            ImputeArg::Auto => Impute::Auto,
            ImputeArg::CohortMean => Impute::CohortMean,
            ImputeArg::Reference => Impute::Reference,
            ImputeArg::None => Impute::None,
        },
        max_missing: args.max_missing,
        reader: methinput::reader_options(&args.input)?,
    };
    for p in pipelines::scores(&request)? {
        info!("wrote {}", p.display());
    }
    Ok(())
}
